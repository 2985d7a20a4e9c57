import { describe, expect, it } from "vitest";
import { readLoyaltyField, readPath } from "../src/domain/paths";

describe("loyalty field paths", () => {
  const customer = { email: "A@b.com", tiers: [{ name: "Gold" }], properties: { store: "Oslo" } };

  it("reads nested objects and array indexes", () => {
    expect(readPath(customer, "tiers.0.name")).toBe("Gold");
    expect(readPath(customer, "properties.store")).toBe("Oslo");
    expect(readPath(customer, "properties.missing.deeper")).toBeUndefined();
    expect(readPath(customer, "email.length")).toBeUndefined();
  });

  it("reads `tier` as the current tier's name unless the snapshot has its own", () => {
    expect(readLoyaltyField(customer, "tier")).toBe("Gold");
    expect(readLoyaltyField({ ...customer, tier: "Silver" }, "tier")).toBe("Silver");
    expect(readLoyaltyField({}, "tier")).toBeUndefined();
  });
});
