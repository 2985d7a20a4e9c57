import { describe, expect, it } from "vitest";
import { demoMapping } from "./support/fixtures";
import { admin, json } from "./support/http";
import { loggedIn, textOf } from "./ui-helpers";

async function workflows() {
  return (await json(await admin("/workflows"))).items as { id: string; name: string; status: string }[];
}

describe("workflows in the admin UI", () => {
  it("shows an empty state before any workflow exists", async () => {
    const ui = await loggedIn();
    const text = textOf((await ui.get("/admin/workflows")).html);
    expect(text).toContain("No workflows yet.");
  });

  it("lists the template catalog with its parameters and defaults", async () => {
    const ui = await loggedIn();
    const { html } = await ui.get("/admin/workflows/new");
    for (const title of ["Welcome", "Birthday reward", "Reward claimed", "Tier upgrade", "Last purchase"])
      expect(textOf(html)).toContain(title);
    expect(html).toMatch(/id="f-tier_upgrade-params-tiers"[^>]*value="Silver, Gold, Platinum"/);
  });

  it("creates from a template through the service (inactive), then activates and deactivates it", async () => {
    await admin("/mapping", { body: demoMapping });
    const ui = await loggedIn();
    const created = await ui.post("/admin/workflows/from-template", {
      template: "welcome",
      "params[action]": "opt_in",
      "params[event]": "loyalty_welcome_ui",
    });
    expect(created.status).toBe(303);
    const [welcome] = await workflows();
    expect(welcome).toMatchObject({ name: "Welcome", status: "inactive" });
    expect(created.location).toBe(`/admin/workflows/${welcome!.id}?notice=created`);

    const editor = await ui.get(created.location!);
    const text = textOf(editor.html);
    expect(text).toContain("When the workflow starts");
    expect(text).toContain("Then Track a Bloomreach event");
    expect(editor.html).toMatch(/id="f-trigger-action"[^>]*value="opt_in"/);
    expect(editor.html).toContain("opt_in_date = {{event.created_at}}");

    expect((await ui.post(`/admin/workflows/${welcome!.id}/activate`, { back: "/admin/workflows" })).location).toBe(
      "/admin/workflows?notice=activated",
    );
    expect((await workflows())[0]!.status).toBe("active");
    const list = textOf((await ui.get("/admin/workflows")).html);
    expect(list).toContain("Welcome active general on Antavo event opt_in");

    expect(
      (await ui.post(`/admin/workflows/${welcome!.id}/deactivate`, { back: `/admin/workflows/${welcome!.id}` }))
        .location,
    ).toBe(`/admin/workflows/${welcome!.id}?notice=deactivated`);
    expect((await workflows())[0]!.status).toBe("inactive");
  });

  it("puts a template parameter error next to the parameter", async () => {
    const ui = await loggedIn();
    const page = await ui.post("/admin/workflows/from-template", {
      template: "birthday_reward",
      "params[rewardId]": "",
      "params[at]": "25:00",
    });
    expect(page.status).toBe(400);
    expect(page.html).toMatch(/id="f-birthday_reward-params-rewardId-error">is required</);
    expect(page.html).toContain('id="f-birthday_reward-params-at-error"');
    expect(page.html).not.toContain('id="f-welcome-params-action-error"');
  });

  it("creates a blank workflow from the flow form, edits it, and maps schema issues to the nodes", async () => {
    const ui = await loggedIn();
    const blank = await ui.get("/admin/workflows/new/blank");
    expect(blank.status).toBe(200);
    expect(blank.html).toContain('name="actions[0][type]" value="sync_event"');

    const invalid = await ui.post("/admin/workflows", {
      name: "Gold",
      kind: "general",
      "trigger[type]": "event",
      "trigger[action]": "",
      "filters[0][type]": "event_attribute",
      "filters[0][attribute]": "tier",
      "filters[0][operator]": "greater_than",
      "filters[0][value]": "Gold",
      "actions[0][type]": "sync_event",
      "actions[0][event]": "loyalty_gold",
      "actions[0][properties]": "tier = {{event.tier}}\nthis line is wrong",
    });
    expect(invalid.status).toBe(400);
    expect(invalid.html).toContain('id="f-trigger-action-error"');
    expect(invalid.html).toContain('id="f-filters-0-value-error"');
    expect(invalid.html).toMatch(/id="f-actions-0-properties-error">line 2: write it as name = value/);
    expect((await workflows()).some((w) => w.name === "Gold")).toBe(false);

    const created = await ui.post("/admin/workflows", {
      name: "Gold",
      kind: "general",
      priority: "50",
      "trigger[type]": "event",
      "trigger[action]": "tier_change",
      "filters[0][type]": "event_attribute",
      "filters[0][attribute]": "tier",
      "filters[0][operator]": "in",
      "filters[0][value]": "Gold, Platinum",
      "actions[0][type]": "sync_event",
      "actions[0][event]": "loyalty_gold",
      "actions[0][properties]": 'tier = {{event.tier}}\npoints = {{customer.score}}\nlevel = 3\ncode = "007"',
      "actions[1][type]": "reward_claim",
      "actions[1][rewardId]": "rw-1",
      "actions[1][free]": "on",
    });
    expect(created.status).toBe(303);
    const id = created.location!.split("/").pop()!.split("?")[0]!;
    const stored = await json(await admin(`/workflows/${id}`));
    expect(stored.document).toMatchObject({
      name: "Gold",
      priority: 50,
      trigger: { type: "event", action: "tier_change" },
      filters: [{ type: "event_attribute", attribute: "tier", operator: "in", value: ["Gold", "Platinum"] }],
      actions: [
        {
          type: "sync_event",
          event: "loyalty_gold",
          properties: { tier: "{{event.tier}}", points: "{{customer.score}}", level: 3, code: "007" },
        },
        { type: "reward_claim", rewardId: "rw-1", free: true },
      ],
    });

    // The editor renders the stored document back, and saving it unchanged changes nothing.
    const editor = await ui.get(`/admin/workflows/${id}`);
    // Text that would read back as a number is quoted; "007" is not JSON, so it stays bare.
    expect(textOf(editor.html)).toContain("level = 3 code = 007");
    const resave = await ui.post(`/admin/workflows/${id}`, {
      name: "Gold",
      kind: "general",
      priority: "50",
      "trigger[type]": "event",
      "trigger[action]": "tier_change",
      "filters[0][type]": "event_attribute",
      "filters[0][attribute]": "tier",
      "filters[0][operator]": "in",
      "filters[0][value]": '["Gold","Platinum"]',
      "actions[0][type]": "sync_event",
      "actions[0][event]": "loyalty_gold",
      "actions[0][properties]": 'tier = {{event.tier}}\npoints = {{customer.score}}\nlevel = 3\ncode = "007"',
      "actions[1][type]": "reward_claim",
      "actions[1][rewardId]": "rw-1",
      "actions[1][free]": "on",
    });
    expect(resave.status).toBe(303);
    expect((await json(await admin(`/workflows/${id}`))).document).toEqual(stored.document);
  });

  it("adds and removes nodes without JavaScript and without saving", async () => {
    const ui = await loggedIn();
    const form = {
      name: "Draft",
      kind: "general",
      "trigger[type]": "event",
      "trigger[action]": "opt_in",
      "actions[0][type]": "sync_event",
      "actions[0][event]": "x",
    };
    const withFilter = await ui.post("/admin/workflows", { ...form, _add_filter: "1" });
    expect(withFilter.status).toBe(200);
    expect(withFilter.html).toContain('name="filters[0][attribute]"');
    expect(textOf(withFilter.html)).toContain("not saved yet");
    const withClaim = await ui.post("/admin/workflows", { ...form, _add_action: "reward_claim" });
    expect(withClaim.html).toContain('name="actions[1][rewardId]"');
    const without = await ui.post("/admin/workflows", { ...form, _remove_action: "0" });
    expect(without.html).not.toContain('name="actions[0][type]"');
    expect((await workflows()).some((w) => w.name === "Draft")).toBe(false);
  });

  it("tries a sample event through the preview service and shows the exact commands", async () => {
    await admin("/mapping", { body: demoMapping });
    const ui = await loggedIn();
    const created = await ui.post("/admin/workflows/from-template", {
      template: "tier_upgrade",
      "params[tiers]": "Gold",
      "params[action]": "tier_change",
    });
    const id = created.location!.split("/").pop()!.split("?")[0]!;
    await ui.post(`/admin/workflows/${id}/activate`);

    const editor = await ui.get(`/admin/workflows/${id}`);
    // The default sample passes the workflow's filter.
    expect(editor.html).toContain("&quot;tier&quot;: &quot;Gold&quot;");
    const sample = JSON.stringify({
      action: "tier_change",
      customer: { id: "c-1", email: "ada@example.com", score: 300 },
      data: { tier: "Gold" },
      created_at: 1767225600,
    });
    const page = await ui.post(`/admin/workflows/${id}/try`, { sample });
    expect(page.status).toBe(200);
    const text = textOf(page.html);
    expect(text).toContain("this workflow matched");
    expect(text).toContain('"event_type": "loyalty_tier_gold"');
    expect(text).toContain('"points": 300');

    const fragment = await ui.post(`/admin/workflows/${id}/try`, { sample }, { headers: { "x-ui-fragment": "1" } });
    expect(fragment.html).not.toContain("<html");
    expect(fragment.html).toContain("loyalty_tier_gold");

    const bad = await ui.post(`/admin/workflows/${id}/try`, { sample: "{not json" });
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('id="f-sample-error"');
    const noAction = await ui.post(`/admin/workflows/${id}/try`, { sample: JSON.stringify({ customer: "c-1" }) });
    expect(noAction.html).toMatch(/id="f-sample-error">action: /);
  });

  it("edits the document as JSON, with the schema's issues listed", async () => {
    const ui = await loggedIn();
    const [first] = await workflows();
    const page = await ui.post(`/admin/workflows/${first!.id}/json`, {
      document: JSON.stringify({ name: "Broken", trigger: { type: "event", action: "x" }, actions: [] }),
    });
    expect(page.status).toBe(400);
    expect(textOf(page.html)).toMatch(/Actions\s*: needs at least one action/);
    const saved = await ui.post(`/admin/workflows/${first!.id}/json`, {
      document: JSON.stringify({
        name: "Renamed by JSON",
        trigger: { type: "event", action: "x" },
        actions: [{ type: "sync_fields", fields: { a: "{{now}}" } }],
      }),
    });
    expect(saved.status).toBe(303);
    expect((await json(await admin(`/workflows/${first!.id}`))).name).toBe("Renamed by JSON");
  });

  it("deletes a workflow", async () => {
    const ui = await loggedIn();
    const before = await workflows();
    const deleted = await ui.post(`/admin/workflows/${before[0]!.id}/delete`);
    expect(deleted.location).toBe("/admin/workflows?notice=deleted");
    expect(await workflows()).toHaveLength(before.length - 1);
    expect((await ui.get(`/admin/workflows/${before[0]!.id}`)).status).toBe(404);
  });
});
