import { describe, expect, it } from "vitest";
import { csvCell } from "../src/domain/bloomreach-csv";
import { seedCustomers } from "./support/backfill";
import { admin } from "./support/http";
import { relayWithFakes } from "./support/pipeline";

const mapping = {
  hardId: { loyaltyField: "email", remoteId: "registered" },
  fields: [
    { loyaltyField: "first_name", remoteField: "first_name" },
    { loyaltyField: "score", remoteField: "loyalty_points" },
    { loyaltyField: "tier", remoteField: "loyalty_tier" },
    { loyaltyField: "properties.vip", remoteField: "vip", type: "boolean" },
    { loyaltyField: "birth_date", remoteField: "birthday", type: "date" },
    { loyaltyField: "properties.store", remoteField: "store", type: "string" },
  ],
};
const relay = relayWithFakes({ mapping });

describe("Bloomreach CSV export", () => {
  it("streams the hard-ID column first, then each mapped field typed as its mapping says", async () => {
    await relay();
    await seedCustomers(
      [
        {
          id: "x-1",
          email: "ada@example.com",
          first_name: "Ada",
          score: "1200",
          tiers: [{ name: "Gold" }],
          birth_date: "1990-02-14",
          properties: { vip: "yes", store: 42 },
        },
        {
          id: "x-2",
          email: "bob@example.com",
          first_name: '=HYPERLINK("http://evil.test","click")',
          score: 7,
          properties: { vip: false, store: "Main St, 1\n2nd floor" },
        },
        { id: "x-3", first_name: "No hard ID" },
        { id: "x-4", email: "cy@example.com", first_name: "+1 555", score: "not a number" },
      ],
      1_767_000_000,
    );
    const response = await admin("/export/bloomreach.csv");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(response.headers.get("content-disposition")).toContain("attachment");
    const text = await response.text();
    expect(text.split("\r\n")).toEqual([
      "registered,first_name,loyalty_points,loyalty_tier,vip,birthday,store",
      "ada@example.com,Ada,1200,Gold,true,634953600,42",
      `bob@example.com,"'=HYPERLINK(""http://evil.test"",""click"")",7,,false,,"Main St, 1\n2nd floor"`,
      // A value its type cannot take is left out (as in delivery), never written as garbage.
      "cy@example.com,'+1 555,,,,,",
      "",
    ]);
  });

  it("quotes cells per RFC 4180 and defuses formulas only in text", () => {
    expect(csvCell("plain")).toBe("plain");
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell(" padded")).toBe('" padded"');
    expect(csvCell("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvCell("-2+3")).toBe("'-2+3");
    expect(csvCell("\tTAB")).toBe("'\tTAB");
    expect(csvCell(-5)).toBe("-5");
    expect(csvCell(true)).toBe("true");
    expect(csvCell(null)).toBe("");
    expect(csvCell({ a: 1 })).toBe('"{""a"":1}"');
  });
});
