/**
 * Under 640 px the list tables become one card per row: every cell carries its column's name in
 * `data-label`, which the stylesheet shows in front of the value. A cell without it would show a
 * bare value with nothing to say what it is. (The layout itself is checked in the browser test.)
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../src/db/client";
import { writeDeliveryLog } from "../src/db/delivery-queries";
import { STYLES } from "../src/ui/styles";
import { admin } from "./support/http";
import { loggedIn } from "./ui-helpers";

/** The `<td>` opening tags of the page's first table body. */
function cellsOf(html: string): string[] {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? "";
  return body.match(/<td\b[^>]*>/g) ?? [];
}

describe("tables that become cards on a phone", () => {
  it("label every cell of the deliveries, customer and workflow lists", async () => {
    await writeDeliveryLog(
      openDatabase(env.DB),
      [
        {
          eventId: "resp-1",
          customerId: "resp-c1",
          action: "opt_in",
          status: "dead",
          lastError: "Invalid event",
          commands: [],
          attempts: [],
        },
      ],
      Math.floor(Date.now() / 1000),
    );
    expect((await admin("/workflows", { method: "POST", body: { template: "welcome" } })).status).toBe(201);
    const ui = await loggedIn();

    const deliveries = cellsOf((await ui.get("/admin/deliveries")).html);
    expect(deliveries.length).toBe(7);
    for (const cell of deliveries) expect(cell).toMatch(/data-label="[^"]+"/);
    expect(deliveries.join(" ")).toContain('data-label="Last error"');
    expect(deliveries.join(" ")).toContain('data-label="Event"');

    const customer = cellsOf((await ui.get("/admin/customers?id=resp-c1")).html);
    expect(customer.length).toBe(6);
    for (const cell of customer) expect(cell).toMatch(/data-label="[^"]+"/);

    const workflows = cellsOf((await ui.get("/admin/workflows")).html);
    expect(workflows.length).toBe(6);
    for (const cell of workflows) expect(cell).toMatch(/data-label="/);
    // The Activate button's cell has an empty label: the button names itself.
    expect(workflows.at(-1)).toContain('data-label=""');

    expect(STYLES).toContain("td[data-label]::before{content:attr(data-label)");
    expect(STYLES).toMatch(/@media \(max-width:639\.98px\)\{[^}]*:has\(td\[data-label\]\)/);
  });

  it("labels a monospace cell (an event or customer id) in the body font, not the cell's", () => {
    const label = /td\[data-label\]::before\{([^}]*)\}/.exec(STYLES)?.[1] ?? "";
    const bodyFont = /--body-font:([^;]+);/.exec(STYLES)?.[1];
    expect(bodyFont).toMatch(/^system-ui,/);
    expect(STYLES).toMatch(/:root\{[^}]*font-family:var\(--body-font\)\}/);
    expect(label).toContain("font-family:var(--body-font)");
    // Not .mono's smaller size either, nor its break-anywhere.
    expect(label).toMatch(/font-size:\.92rem/);
    expect(label).toContain("word-break:normal");
  });
});
