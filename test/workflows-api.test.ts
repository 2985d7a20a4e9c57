import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { TEMPLATE_CATALOG } from "../src/domain/workflow/builtin-templates";
import { admin, json } from "./support/http";

const goldUpgrade = {
  name: "Tier upgrade to Gold",
  trigger: { type: "event", action: "tier_change" },
  filters: [{ type: "event_attribute", attribute: "tier", operator: "equals", value: "Gold" }],
  actions: [{ type: "sync_event", event: "loyalty_tier_gold", properties: { tier: "{{event.tier}}" } }],
};

const post = (path: string, body?: unknown) => admin(path, { method: "POST", ...(body === undefined ? {} : { body }) });

async function create(document: unknown) {
  const response = await post("/workflows", document);
  expect(response.status, await response.clone().text()).toBe(201);
  return json(response);
}

async function issuesOf(response: Response) {
  expect(response.status).toBe(400);
  const body = await json(response);
  expect(body.error.code).toBe("validation_failed");
  return body.error.issues as { path: string; message: string }[];
}

describe("workflows admin API", () => {
  it("creates a workflow inactive, stores the parsed document and copies its priority", async () => {
    const created = await create({ ...goldUpgrade, priority: 7 });
    expect(created).toMatchObject({
      name: "Tier upgrade to Gold",
      status: "inactive",
      kind: "general",
      priority: 7,
      valid: true,
      lastRunAt: null,
    });
    expect(created.id).toMatch(/^wf_[0-9a-z]+$/);
    expect(created.triggerSummary).toBe("on Antavo event tier_change");
    // Defaults are filled in once, on the way in.
    expect(created.document).toMatchObject({ kind: "general", startsAt: null, endsAt: null, priority: 7 });

    const row = await env.DB.prepare("select active, priority, document from workflows where id = ?")
      .bind(created.id)
      .first<Record<string, any>>();
    expect(row).toMatchObject({ active: 0, priority: 7 });
    expect(JSON.parse(row!.document)).toMatchObject({
      name: "Tier upgrade to Gold",
      filters: [{ operator: "equals", value: "Gold" }],
    });

    const fetched = await json(await admin(`/workflows/${created.id}`));
    expect(fetched).toMatchObject({
      id: created.id,
      status: "inactive",
      document: { trigger: { action: "tier_change" } },
      recentRuns: [],
    });
  });

  it("answers invalid documents with validation_failed and the offending paths, storing nothing", async () => {
    const before = (await json(await admin("/workflows"))).items.length;

    const unknownOperator = await issuesOf(
      await post("/workflows", {
        ...goldUpgrade,
        filters: [{ type: "event_attribute", attribute: "tier", operator: "starts_with", value: "G" }],
      }),
    );
    expect(unknownOperator).toContainEqual({
      path: "filters.0.operator",
      message: expect.stringMatching(/unknown operator "starts_with"/),
    });

    const eventFilterOnDate = await issuesOf(
      await post("/workflows", {
        name: "Birthday",
        trigger: { type: "date", repeat: "daily", at: "09:00" },
        filters: [{ type: "event_attribute", attribute: "tier", operator: "equals", value: "Gold" }],
        actions: [{ type: "sync_fields", fields: { birthday_run: "{{now}}" } }],
      }),
    );
    expect(eventFilterOnDate).toContainEqual({
      path: "filters.0.type",
      message: expect.stringMatching(/customer_attribute/),
    });

    const campaignWithoutWindow = await issuesOf(await post("/workflows", { ...goldUpgrade, kind: "campaign" }));
    expect(campaignWithoutWindow.map((i) => i.path)).toEqual(expect.arrayContaining(["startsAt", "endsAt"]));

    const unknownRoot = await issuesOf(
      await post("/workflows", {
        ...goldUpgrade,
        actions: [{ type: "sync_event", event: "e", properties: { total: "{{order.total}}" } }],
      }),
    );
    expect(unknownRoot).toContainEqual({
      path: "actions.0.properties.total",
      message: expect.stringMatching(/unknown root "order"/),
    });

    const claimWithoutReward = await issuesOf(
      await post("/workflows", { ...goldUpgrade, actions: [{ type: "reward_claim", free: true }] }),
    );
    expect(claimWithoutReward).toContainEqual({ path: "actions.0.rewardId", message: "rewardId is required" });

    const notAnObject = await post("/workflows", ["not", "a", "document"]);
    expect(notAnObject.status).toBe(400);

    expect((await json(await admin("/workflows"))).items).toHaveLength(before);
  });

  it("activates and deactivates, and only active workflows reach the engine", async () => {
    const { id } = await create({ ...goldUpgrade, name: "Toggle me" });
    const active = async () =>
      (await env.DB.prepare("select active from workflows where id = ?").bind(id).first<{ active: number }>())!.active;

    const activated = await post(`/workflows/${id}/activate`);
    expect(activated.status).toBe(200);
    expect(await json(activated)).toMatchObject({ id, status: "active" });
    expect(await active()).toBe(1);
    expect((await json(await admin("/workflows"))).items.find((w: any) => w.id === id).status).toBe("active");

    const deactivated = await json(await post(`/workflows/${id}/deactivate`));
    expect(deactivated.status).toBe("inactive");
    expect(await active()).toBe(0);
  });

  it("replaces a document with PUT, keeping the status and validating like POST", async () => {
    const { id } = await create({ ...goldUpgrade, name: "Editable" });
    await post(`/workflows/${id}/activate`);
    const updated = await admin(`/workflows/${id}`, {
      method: "PUT",
      body: { ...goldUpgrade, name: "Edited", priority: 3 },
    });
    expect(updated.status).toBe(200);
    expect(await json(updated)).toMatchObject({ id, name: "Edited", priority: 3, status: "active" });

    const invalid = await admin(`/workflows/${id}`, { method: "PUT", body: { ...goldUpgrade, actions: [] } });
    expect(await issuesOf(invalid)).toContainEqual({
      path: "actions",
      message: expect.stringMatching(/at least one action/),
    });
    expect((await json(await admin(`/workflows/${id}`))).name).toBe("Edited");
  });

  it("deletes a workflow and its runs; unknown ids answer 404 not_found", async () => {
    const { id } = await create({ ...goldUpgrade, name: "Doomed" });
    await env.DB.prepare(
      "insert into workflow_runs (workflow_id, customer_id, run_date) values (?, 'c1', '2026-01-01')",
    )
      .bind(id)
      .run();
    const deleted = await admin(`/workflows/${id}`, { method: "DELETE" });
    expect(deleted.status).toBe(200);
    expect(await json(deleted)).toEqual({ id, deleted: true });
    expect(
      await env.DB.prepare("select count(*) as n from workflow_runs where workflow_id = ?").bind(id).first("n"),
    ).toBe(0);

    for (const [method, path, body] of [
      ["GET", `/workflows/${id}`],
      ["DELETE", `/workflows/${id}`],
      ["POST", `/workflows/${id}/activate`],
      ["POST", `/workflows/${id}/deactivate`],
      ["PUT", `/workflows/${id}`, goldUpgrade],
    ] as const) {
      const response = await admin(path, { method, ...(body ? { body } : {}) });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect((await json(response)).error.code).toBe("not_found");
    }
  });

  it("lists the template catalog", async () => {
    const response = await admin("/workflow-templates");
    expect(response.status).toBe(200);
    const { items } = await json(response);
    expect(items.map((t: any) => t.name)).toEqual([
      "welcome",
      "birthday_reward",
      "reward_claim",
      "tier_upgrade",
      "last_purchase",
    ]);
    expect(items).toEqual(JSON.parse(JSON.stringify(TEMPLATE_CATALOG)));
  });

  it("creates a template's workflows, all inactive, in the template's order", async () => {
    const response = await post("/workflows", { template: "tier_upgrade", params: {} });
    expect(response.status).toBe(201);
    const body = await json(response);
    expect(body.template).toBe("tier_upgrade");
    expect(body.items.map((w: any) => [w.name, w.status, w.document.actions[0].event])).toEqual([
      ["Tier upgrade to Silver", "inactive", "loyalty_tier_silver"],
      ["Tier upgrade to Gold", "inactive", "loyalty_tier_gold"],
      ["Tier upgrade to Platinum", "inactive", "loyalty_tier_platinum"],
    ]);
    // Same priority and creation second: the ids keep the template's order in the list and the engine.
    const ids = body.items.map((w: any) => w.id);
    expect([...ids].sort()).toEqual(ids);
    const listed = (await json(await admin("/workflows"))).items
      .filter((w: any) => ids.includes(w.id))
      .map((w: any) => w.id);
    expect(listed).toEqual(ids);

    const birthday = await json(
      await post("/workflows", { template: "birthday_reward", params: { rewardId: "rw-bday", at: "08:30" } }),
    );
    expect(birthday.items).toHaveLength(1);
    expect(birthday.items[0]).toMatchObject({
      status: "inactive",
      triggerSummary: "daily at 08:30 UTC",
      document: { actions: [{ type: "reward_claim", rewardId: "rw-bday", free: true }, {}] },
    });
  });

  it("answers bad template requests with paths", async () => {
    const unknown = await issuesOf(await post("/workflows", { template: "anniversary" }));
    expect(unknown).toEqual([{ path: "template", message: expect.stringMatching(/welcome/) }]);
    const missing = await issuesOf(await post("/workflows", { template: "birthday_reward", params: {} }));
    expect(missing).toContainEqual({ path: "params.rewardId", message: "is required" });
    const stray = await issuesOf(await post("/workflows", { template: "welcome", params: { colour: "red" } }));
    expect(stray[0]!.message).toMatch(/colour/);
  });

  it("lists workflows in engine order with a trigger summary", async () => {
    const late = await create({ ...goldUpgrade, name: "Runs last", priority: 900 });
    const early = await create({ ...goldUpgrade, name: "Runs first", priority: 0 });
    const yearly = await create({
      name: "Anniversary",
      priority: 1,
      trigger: { type: "date", repeat: "yearly", at: "07:00", date: "2026-03-14" },
      actions: [{ type: "sync_fields", fields: { anniversary: "{{now}}" } }],
    });
    const { items } = await json(await admin("/workflows"));
    const ids = items.map((w: any) => w.id);
    expect(ids.indexOf(early.id)).toBe(0);
    expect(ids.indexOf(yearly.id)).toBe(1);
    expect(ids.at(-1)).toBe(late.id);
    expect(items[1]).toMatchObject({
      kind: "general",
      triggerSummary: "yearly on March 14 at 07:00 UTC, from 2026-03-14",
      status: "inactive",
    });
    expect(items[1]).not.toHaveProperty("document");
  });
});

describe("preview with a workflow", () => {
  it("includes an inactive workflow when asked, and plans a date workflow as today's run", async () => {
    await admin("/mapping", { body: { hardId: { loyaltyField: "email", remoteId: "registered" }, fields: [] } });
    const created = await json(await admin("/workflows", { method: "POST", body: { template: "welcome" } }));
    const welcome = created.id ?? created.items?.[0]?.id;
    const event = { action: "opt_in", customer: { id: "p-1", email: "p@example.com" }, data: { points: 5 } };

    const without = await json(await admin("/preview", { method: "POST", body: { event } }));
    expect(without.commands.filter((c: any) => c.source.kind === "workflow")).toEqual([]);
    const withIt = await json(await admin("/preview", { method: "POST", body: { event, workflowId: welcome } }));
    expect(
      withIt.commands.filter((c: any) => c.source.kind === "workflow").map((c: any) => c.command.data.event_type),
    ).toEqual(["loyalty_welcome"]);

    const birthday = await json(
      await admin("/workflows", {
        method: "POST",
        body: { template: "birthday_reward", params: { rewardId: "rw-bday" } },
      }),
    );
    const birthdayId = birthday.id ?? birthday.items?.[0]?.id;
    const today = new Date().toISOString().slice(5, 10);
    const dated = await json(
      await admin("/preview", {
        method: "POST",
        body: {
          event: { action: "preview", customer: { id: "p-2", email: "b@example.com", birth_date: `1990-${today}` } },
          workflowId: birthdayId,
        },
      }),
    );
    expect(dated.event.dateRun).toMatchObject({ workflowId: birthdayId });
    expect(dated.afterClaims[0].claim).toMatchObject({ rewardId: "rw-bday", free: true });

    const unknown = await admin("/preview", { method: "POST", body: { event, workflowId: "wf_nope" } });
    expect(unknown.status).toBe(404);
  });
});
