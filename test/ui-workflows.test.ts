import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { TEMPLATE_CATALOG } from "../src/domain/workflow/builtin-templates";
import { FILTER_OPERATORS } from "../src/domain/workflow/document";
import { sampleFor } from "../src/ui/workflow-sample";
import { cronTick, runScans, seedMirror } from "./support/date-runs";
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

  it("names the workflows a template made several of, in the plural, and marks their rows new", async () => {
    await admin("/mapping", { body: demoMapping });
    const ui = await loggedIn();
    await ui.post("/admin/workflows/from-template", { template: "welcome", "params[action]": "opt_in" });
    const created = await ui.post("/admin/workflows/from-template", {
      template: "tier_upgrade",
      "params[tiers]": "Silver, Gold, Platinum",
    });
    expect(created.status).toBe(303);
    const tiers = (await workflows()).filter((w) => w.name.startsWith("Tier upgrade"));
    expect(tiers.map((w) => w.name).sort()).toEqual([
      "Tier upgrade to Gold",
      "Tier upgrade to Platinum",
      "Tier upgrade to Silver",
    ]);
    const location = new URL(created.location!, "https://relay.test");
    expect(location.pathname).toBe("/admin/workflows");
    expect(location.searchParams.get("created")!.split(",").sort()).toEqual(tiers.map((w) => w.id).sort());

    const list = await ui.get(created.location!);
    const text = textOf(list.html);
    expect(text).toContain(
      "3 workflows created (inactive until you activate them): Tier upgrade to Silver, Tier upgrade to Gold, Tier upgrade to Platinum.",
    );
    expect(text).not.toContain("Workflow created (inactive until you activate it).");
    const rows = list.html.split("<tr>").slice(1);
    const rowOf = (name: string) => rows.find((row) => row.includes(`>${name}</a>`))!;
    for (const tier of tiers) expect(rowOf(tier.name)).toContain('<span class="badge warn">new</span>');
    expect(rowOf("Welcome")).not.toContain(">new</span>");

    // Only ids of existing workflows count: one left is the singular notice, none is no notice.
    const gold = tiers.find((w) => w.name === "Tier upgrade to Gold")!;
    const one = textOf((await ui.get(`/admin/workflows?created=${gold.id},wf_nope`)).html);
    expect(one).toContain("Workflow created (inactive until you activate it).");
    expect(one).not.toContain("workflows created");
    const none = await ui.get("/admin/workflows?created=wf_nope,Hello%20there");
    expect(textOf(none.html)).not.toMatch(/created|Hello there/);
    expect(none.html).not.toContain(">new</span>");
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

const idFrom = (location: string | null) => location!.split("/").pop()!.split("?")[0]!;

describe("the workflow editor in place, in Antavo's words, with Try it and date runs", () => {
  const draft = {
    name: "Gold members",
    kind: "general",
    "trigger[type]": "event",
    "trigger[action]": "tier_change",
    "actions[0][type]": "sync_fields",
    "actions[0][fields]": "tier = {{event.tier}}",
  };

  it("adds a filter and a Track event action without JavaScript, and saves what was added", async () => {
    const ui = await loggedIn();
    const created = await ui.post("/admin/workflows", draft);
    expect(created.status).toBe(303);
    const id = idFrom(created.location);

    // Each "Add" is a plain submit the server answers with the edited, unsaved form.
    const withFilter = await ui.post(`/admin/workflows/${id}`, { ...draft, _add_filter: "1" });
    expect(withFilter.status).toBe(200);
    expect(withFilter.html).toContain('name="filters[0][attribute]"');
    const withAction = await ui.post(`/admin/workflows/${id}`, {
      ...draft,
      "filters[0][type]": "event_attribute",
      "filters[0][attribute]": "",
      "filters[0][operator]": "equals",
      "filters[0][value]": "",
      _add_action: "sync_event",
    });
    expect(withAction.html).toContain('name="actions[1][event]"');
    expect(withAction.html).toContain('name="filters[0][attribute]"');
    expect((await json(await admin(`/workflows/${id}`))).document.filters).toEqual([]);

    // Saving the form as the browser fills it in stores the added nodes.
    const saved = await ui.post(`/admin/workflows/${id}`, {
      ...draft,
      "filters[0][type]": "event_attribute",
      "filters[0][attribute]": "tier",
      "filters[0][operator]": "equals",
      "filters[0][value]": "Gold",
      "actions[1][type]": "sync_event",
      "actions[1][event]": "loyalty_gold",
      "actions[1][properties]": "tier = {{event.tier}}",
    });
    expect(saved.status).toBe(303);
    const { document } = await json(await admin(`/workflows/${id}`));
    expect(document.filters).toEqual([
      { type: "event_attribute", attribute: "tier", operator: "equals", value: "Gold" },
    ]);
    expect(document.actions).toEqual([
      { type: "sync_fields", fields: { tier: "{{event.tier}}" } },
      { type: "sync_event", event: "loyalty_gold", properties: { tier: "{{event.tier}}" } },
    ]);

    // The page script's <template>s carry the same names with a placeholder index; the indexes it
    // gives (the next free ones, so possibly with gaps) save in order.
    const editor = await ui.get(`/admin/workflows/${id}`);
    expect(editor.html).toMatch(/<template data-node-template="filter">[\s\S]*name="filters\[__i__\]\[attribute\]"/);
    expect(editor.html).toMatch(/<template data-node-template="sync_event">[\s\S]*name="actions\[__i__\]\[event\]"/);
    expect(editor.html).toContain('data-next-filter="1"');
    const gaps = await ui.post(`/admin/workflows/${id}`, {
      ...draft,
      "filters[0][type]": "event_attribute",
      "filters[0][attribute]": "tier",
      "filters[0][operator]": "equals",
      "filters[0][value]": "Gold",
      "filters[3][type]": "customer_attribute",
      "filters[3][attribute]": "score",
      "filters[3][operator]": "greater_than",
      "filters[3][value]": "100",
      "actions[2][type]": "sync_event",
      "actions[2][event]": "loyalty_gold_2",
      "actions[2][properties]": "",
    });
    expect(gaps.status).toBe(303);
    const again = (await json(await admin(`/workflows/${id}`))).document;
    expect(again.filters.map((f: { attribute: string }) => f.attribute)).toEqual(["tier", "score"]);
    expect(again.actions.map((a: { type: string }) => a.type)).toEqual(["sync_fields", "sync_event"]);
  });

  it("shows operators in Antavo's words and stores the document's values", async () => {
    const ui = await loggedIn();
    const created = await ui.post("/admin/workflows", {
      ...draft,
      name: "Not bronze",
      "filters[0][type]": "event_attribute",
      "filters[0][attribute]": "tier",
      "filters[0][operator]": "not_equals",
      "filters[0][value]": "Bronze",
    });
    expect(created.status).toBe(303);
    const id = idFrom(created.location);
    expect((await json(await admin(`/workflows/${id}`))).document.filters[0].operator).toBe("not_equals");
    const { html } = await ui.get(`/admin/workflows/${id}`);
    const labels = Object.fromEntries(
      [...html.matchAll(/<option value="([a-z_]+)"(?: selected="")?>([^<]+)<\/option>/g)]
        .filter(([, value]) => (FILTER_OPERATORS as readonly string[]).includes(value!))
        .map(([, value, label]) => [value, label]),
    );
    expect(labels).toEqual({
      equals: "equal with",
      not_equals: "not equal with",
      greater_than: "greater than",
      less_than: "less than",
      contains: "contains",
      in: "is one of",
      exists: "exists",
      in_date: "in date",
    });
    expect(html).toMatch(/<option value="not_equals" selected="">not equal with<\/option>/);
  });

  it("labels every template parameter for people, with a hint", async () => {
    const ui = await loggedIn();
    const { html } = await ui.get("/admin/workflows/new");
    for (const template of TEMPLATE_CATALOG) {
      for (const param of template.params) {
        const id = `f-${template.name}-params-${param.name}`;
        const label = new RegExp(`<label for="${id}">([^<]*)</label>`).exec(html)?.[1];
        expect(label, id).toBe(`${param.label}${param.required ? " (required)" : ""}`);
        expect(label).not.toBe(param.name);
        expect(html, id).toContain(`id="${id}-hint"`);
      }
    }
    const text = textOf(html);
    expect(text).toContain("Antavo reward ID (required)");
    expect(text).toContain("Bloomreach event name prefix");
    expect(text).not.toMatch(/\b(rewardId|eventPrefix)\b/);
  });

  it("warns on the birthday template, on activation and in Try it while no Antavo connection is configured", async () => {
    const ui = await loggedIn();
    const picker = await ui.get("/admin/workflows/new");
    const birthday = /<section[^>]*aria-labelledby="tpl-birthday_reward"[\s\S]*?<\/section>/.exec(picker.html)![0];
    expect(textOf(birthday)).toContain("Needs the Antavo API connection, which is not set up yet");
    expect(birthday).toContain('href="/admin/antavo"');
    const welcome = /<section[^>]*aria-labelledby="tpl-welcome"[\s\S]*?<\/section>/.exec(picker.html)![0];
    expect(textOf(welcome)).not.toContain("Antavo API connection");

    // Not blocked: the claims wait for the connection rather than fail.
    const created = await ui.post("/admin/workflows/from-template", {
      template: "birthday_reward",
      "params[rewardId]": "rw-bday",
    });
    expect(created.status).toBe(303);
    const id = idFrom(created.location);
    const editor = textOf((await ui.get(created.location!)).html);
    expect(editor).toContain("This workflow claims Antavo rewards, and no Antavo API connection is configured");
    expect(editor).toContain("No Antavo API connection is configured: this shows the reward claim");

    const activated = await ui.post(`/admin/workflows/${id}/activate`, { back: "/admin/workflows" });
    expect(activated.location).toBe("/admin/workflows?notice=activated-needs-antavo");
    expect(textOf((await ui.get(activated.location!)).html)).toContain(
      "Workflow activated. It claims Antavo rewards and no Antavo API connection is configured",
    );
    expect((await json(await admin(`/workflows/${id}`))).status).toBe("active");
    expect(textOf((await ui.get(`/admin/workflows/${id}`)).html)).toContain(
      "This workflow is active and claims Antavo rewards, but no Antavo API connection is configured",
    );
    await admin(`/workflows/${id}/deactivate`, { method: "POST" });
  });

  it("pre-fills Try it to fit the trigger: a customer for a date workflow, an event of its action otherwise", async () => {
    const ui = await loggedIn();
    const birthday = await ui.post("/admin/workflows/from-template", {
      template: "birthday_reward",
      "params[rewardId]": "rw-try",
    });
    const dated = await ui.get(birthday.location!);
    const sample = JSON.parse(
      textOf(/<textarea[^>]*id="f-sample"[^>]*>([\s\S]*?)<\/textarea>/.exec(dated.html)![1]!),
    ) as Record<string, any>;
    expect(sample.action).toBeUndefined();
    expect(sample.data).toBeUndefined();
    const today = new Date().toISOString().slice(5, 10);
    expect(sample.customer.birth_date).toBe(`1990-${today}`);
    expect(textOf(dated.html)).toContain("Sample customer (JSON, as the customer mirror holds it)");
    // That sample, tried as it is, is today's run for that customer: the claim, then (after it) the event.
    const tried = await ui.post(`/admin/workflows/${idFrom(birthday.location)}/try`, {
      sample: JSON.stringify(sample),
    });
    expect(tried.status).toBe(200);
    const triedText = textOf(tried.html);
    expect(triedText).toContain("this workflow matched");
    expect(triedText).toContain("Claim reward rw-try for customer sample-customer-1, free");
    // A customer whose birthday is not today is named with the filter that stopped the run.
    const otherMonth = String(((new Date().getUTCMonth() + 6) % 12) + 1).padStart(2, "0");
    const notToday = { customer: { ...sample.customer, birth_date: `1990-${otherMonth}-15` } };
    expect(
      textOf(
        (await ui.post(`/admin/workflows/${idFrom(birthday.location)}/try`, { sample: JSON.stringify(notToday) })).html,
      ),
    ).toContain(
      `This workflow did not match: filter 1 (the customer's birth_date in date today) did not pass: the customer's birth_date is “1990-${otherMonth}-15”.`,
    );

    const purchase = await ui.post("/admin/workflows/from-template", {
      template: "last_purchase",
      "params[actions]": "checkout",
    });
    const event = await ui.get(purchase.location!);
    const eventSample = JSON.parse(
      textOf(/<textarea[^>]*id="f-sample"[^>]*>([\s\S]*?)<\/textarea>/.exec(event.html)![1]!),
    ) as Record<string, any>;
    expect(eventSample.action).toBe("checkout");
    expect(eventSample.data).toMatchObject({ total: expect.any(Number), transaction_id: expect.any(String) });
    expect(Array.isArray(eventSample.data.items)).toBe(true);
  });

  it("says which filter failed, and sums up the commands with the raw JSON folded away", async () => {
    await admin("/mapping", { body: demoMapping });
    const ui = await loggedIn();
    const created = await ui.post("/admin/workflows/from-template", {
      template: "tier_upgrade",
      "params[tiers]": "Gold",
    });
    const id = idFrom(created.location);
    const silver = JSON.stringify({
      action: "tier_change",
      customer: { id: "c-9", email: "nine@example.com" },
      data: { tier: "Silver" },
    });
    const missed = textOf((await ui.post(`/admin/workflows/${id}/try`, { sample: silver })).html);
    expect(missed).toContain(
      "This workflow did not match: filter 1 (the event's tier equal with “Gold”) did not pass: the event's tier is “Silver”.",
    );
    const other = JSON.stringify({ action: "opt_in", customer: { id: "c-9", email: "nine@example.com" } });
    expect(textOf((await ui.post(`/admin/workflows/${id}/try`, { sample: other })).html)).toContain(
      "This workflow did not match: it starts on the Antavo event tier_change, and the sample's action is opt_in.",
    );
    const noTier = JSON.stringify({ action: "tier_change", customer: { id: "c-9", email: "nine@example.com" } });
    expect(
      textOf(
        (await ui.post(`/admin/workflows/${id}/try`, { sample: noTier }, { headers: { "x-ui-fragment": "1" } })).html,
      ),
    ).toContain("filter 1 (the event's tier equal with “Gold”) did not pass: the event's tier has no value.");

    const gold = JSON.stringify({
      action: "tier_change",
      customer: { id: "c-9", email: "nine@example.com", score: 10 },
      data: { tier: "Gold" },
    });
    const matched = await ui.post(`/admin/workflows/${id}/try`, { sample: gold });
    const text = textOf(matched.html);
    expect(text).toContain("Track event loyalty_tier_gold for registered nine@example.com (properties: tier, points,");
    expect(text).toContain("Update customer registered nine@example.com: last_tier_upgrade");
    expect(matched.html).toMatch(
      /<details><summary>The exact Bloomreach commands \(JSON\)<\/summary><pre>[^<]*&quot;event_type&quot;: &quot;loyalty_tier_gold&quot;/,
    );
  });

  it("names date-run deliveries after their workflow in the delivery log", async () => {
    const ui = await loggedIn();
    const created = await ui.post("/admin/workflows/from-template", {
      template: "birthday_reward",
      "params[rewardId]": "rw-log",
    });
    const id = idFrom(created.location);
    await ui.post(`/admin/workflows/${id}/activate`);
    await seedMirror([{ id: "bday-1", email: "bday@example.com", birth_date: "1991-03-14" }]);
    const { events } = await runScans(await cronTick("2026-03-14T09:00:00Z"));
    const run = events.find((m) => m.event.customerId === "bday-1")!.event;
    expect(run.action).toBe("workflow_date_run");

    // Pending (accepted, not yet through the pipeline), then as a delivery row.
    const pending = textOf((await ui.get("/admin/deliveries?status=pending")).html);
    expect(pending).toContain("Birthday reward (date run)");
    expect(pending).not.toContain("workflow_date_run");
    const now = Math.floor(Date.now() / 1000);
    await env.DB.prepare(
      "insert into deliveries (id, event_id, customer_id, action, status, direction, attempts, commands, created_at, updated_at) values (?, ?, ?, ?, 'delivered', 'to_bloomreach', 1, '[]', ?, ?)",
    )
      .bind(run.id, run.id, "bday-1", run.action, now, now)
      .run();
    expect(textOf((await ui.get("/admin/deliveries?customer=bday-1")).html)).toContain("Birthday reward (date run)");
    const detail = textOf((await ui.get(`/admin/deliveries/${encodeURIComponent(run.id)}`)).html);
    expect(detail).toContain("Action Birthday reward (date run)");
    // The stored action stays what the pipeline and the API filters know.
    const api = await json(await admin(`/deliveries/${encodeURIComponent(run.id)}`));
    expect(api).toMatchObject({ action: "workflow_date_run", actionLabel: "Birthday reward (date run)" });

    // The name is read when the log is: a deleted workflow's runs say so.
    await ui.post(`/admin/workflows/${id}/delete`);
    expect(textOf((await ui.get("/admin/deliveries?customer=bday-1")).html)).toContain(
      "date run of a deleted workflow",
    );
  });

  it("drops the Antavo warnings once the connection is configured", async () => {
    const put = await admin("/antavo", {
      method: "PUT",
      body: { baseUrl: "https://api.demo.antavo.com", environment: "demo", apiKey: "k", apiSecret: "s" },
    });
    expect(put.status).toBe(200);
    const ui = await loggedIn();
    expect(textOf((await ui.get("/admin/workflows/new")).html)).not.toContain("Needs the Antavo API connection");
    const created = await ui.post("/admin/workflows/from-template", {
      template: "birthday_reward",
      "params[rewardId]": "rw-ok",
    });
    expect(textOf((await ui.get(created.location!)).html)).not.toContain("no Antavo API connection is configured");
    const activated = await ui.post(`/admin/workflows/${idFrom(created.location)}/activate`);
    expect(activated.location).toContain("notice=activated");
    expect(activated.location).not.toContain("needs-antavo");
    await admin(`/workflows/${idFrom(created.location)}/deactivate`, { method: "POST" });
  });
});

describe("Try it's sample event", () => {
  it("fills in what the actions' placeholders read, and takes any trigger action name", () => {
    const document = {
      trigger: { type: "event", action: "constructor" },
      filters: [],
      actions: [
        {
          type: "track_event",
          eventType: "bonus",
          properties: { points: "{{event.bonus_points}}", nested: { level: "{{customer.vip_level}}" } },
        },
      ],
    };
    const sample = JSON.parse(sampleFor(document, 1_767_225_600));
    expect(sample.action).toBe("constructor");
    expect(sample.data).toEqual({ bonus_points: 50 });
    expect(sample.customer.vip_level).toBe("sample vip_level");
  });
});
