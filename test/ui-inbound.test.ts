/**
 * The "Inbound from Bloomreach" page (issue 11): the Webhook node's URL and header to paste into
 * Bloomreach (never the token itself), rules saved through the same schema as `PUT /api/inbound`
 * with errors next to the row at fault, and Try it showing the exact Antavo request.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { admin, json } from "./support/http";
import { loggedIn, textOf } from "./ui-helpers";

const mapping = { hardId: { loyaltyField: "email", remoteId: "registered" }, fields: [] };

describe("Inbound from Bloomreach", () => {
  it("shows the webhook URL, method and header to paste, without the token", async () => {
    await admin("/mapping", { body: mapping });
    const ui = await loggedIn();
    const page = await ui.get("/admin/inbound");
    expect(page.status).toBe(200);
    const text = textOf(page.html);
    expect(text).toContain("https://relay.test/webhooks/bloomreach");
    expect(text).toContain("Authorization: Bearer");
    expect(text).toContain("POST");
    expect(page.html).not.toContain("test-bloomreach-token");
    expect(page.html).toMatch(
      /aria-current="page"[^>]*>Inbound from Bloomreach|href="\/admin\/inbound" aria-current="page"/,
    );
  });

  it("saves the rules of the form, and keeps a bad one with its error at its row", async () => {
    const ui = await loggedIn();
    const bad = await ui.post("/admin/inbound", {
      "rules[0][eventType]": "newsletter_signup",
      "rules[0][antavoAction]": "point_add",
      "rules[0][data]": '{"points": 50, "reason": "{{event.source}}"}',
      "rules[1][eventType]": "survey_answered",
      "rules[1][antavoAction]": "survey",
      "rules[1][data]": "{not json",
    });
    expect(bad.status).toBe(400);
    expect(bad.html).toMatch(/id="f-rules-0-data-error">reason: \{\{event\.source\}\}: unknown root/);
    expect(bad.html).toMatch(/id="f-rules-1-data-error">must be JSON/);
    expect((await json(await admin("/inbound"))).rules).toEqual([]);

    const good = await ui.post("/admin/inbound", {
      "rules[0][eventType]": "newsletter_signup",
      "rules[0][antavoAction]": "point_add",
      "rules[0][data]": '{"points": 50, "reason": "{{properties.source}}"}',
    });
    expect(good.status).toBe(303);
    expect((await json(await admin("/inbound"))).rules).toEqual([
      {
        eventType: "newsletter_signup",
        antavoAction: "point_add",
        data: { points: 50, reason: "{{properties.source}}" },
      },
    ]);
  });

  it("Try it shows the Antavo request for a sample body, for the customer the mirror knows", async () => {
    await admin("/mapping", { body: mapping });
    await admin("/inbound", {
      body: {
        rules: [
          {
            eventType: "newsletter_signup",
            antavoAction: "point_add",
            data: { points: 50, reason: "{{properties.source}}" },
          },
        ],
      },
    });
    await env.DB.prepare(
      "insert into customers (id, email, snapshot, updated_at) values ('ant-ui', 'ui@example.com', ?, 1)",
    )
      .bind(JSON.stringify({ id: "ant-ui", email: "ui@example.com" }))
      .run();
    const ui = await loggedIn();
    const page = await ui.post("/admin/inbound/try", {
      sample: JSON.stringify({
        event_type: "newsletter_signup",
        customer_ids: { registered: "ui@example.com" },
        properties: { source: "footer" },
      }),
    });
    expect(page.status).toBe(200);
    const text = textOf(page.html);
    expect(text).toContain("POST https://api.<environment>.antavo.com/events");
    expect(text).toMatch(/"customer": "ant-ui"/);
    expect(text).toMatch(/"points": 50/);
    expect(text).toMatch(/"reason": "footer"/);
    const none = await ui.post("/admin/inbound/try", {
      sample: JSON.stringify({ event_type: "other", customer_ids: { registered: "x" } }),
    });
    expect(none.status).toBe(422);
    expect(textOf(none.html)).toContain('no inbound rule covers the Bloomreach event type "other"');
  });

  it("the delivery log filters by direction, and the dashboard counts and charts both", async () => {
    const now = Math.floor(Date.now() / 1000);
    const insert = (id: string, direction: string, action: string) =>
      env.DB.prepare(
        "insert into deliveries (id, event_id, customer_id, action, status, direction, created_at, updated_at) values (?, ?, 'c', ?, 'delivered', ?, ?, ?)",
      )
        .bind(id, id, action, direction, now, now)
        .run();
    await insert("dir-out", "to_bloomreach", "opt_in_out");
    await insert("dir-in", "to_antavo", "newsletter_in");
    const ui = await loggedIn();
    const inbound = textOf((await ui.get("/admin/deliveries?direction=to_antavo")).html);
    expect(inbound).toContain("newsletter_in");
    expect(inbound).not.toContain("opt_in_out");
    const outbound = textOf((await ui.get("/admin/deliveries?direction=to_bloomreach")).html);
    expect(outbound).toContain("opt_in_out");
    expect(outbound).not.toContain("newsletter_in");
    expect((await ui.get("/admin/deliveries?direction=sideways")).status).toBe(400);
    const dashboard = textOf((await ui.get("/admin")).html);
    expect(dashboard).toMatch(/1 to Bloomreach,\s*1 to Antavo/);
    expect(dashboard).toContain("Of them, from Bloomreach to Antavo");
  });
});
