import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { demoMapping, demoSettings, optInEvent } from "./support/fixtures";
import { admin, json } from "./support/http";

const connection = {
  baseUrl: "https://api.exponea.test/",
  projectToken: "proj-token",
  apiKeyId: "key-id",
  apiSecret: "TOP-SECRET-bloomreach",
};
const antavo = {
  baseUrl: "https://api.demo.antavo.com",
  environment: "demo",
  apiKey: "antavo-key",
  apiSecret: "TOP-SECRET-antavo",
};

async function dumpTable(table: string) {
  return JSON.stringify((await env.DB.prepare(`select * from ${table}`).all()).results);
}

describe("admin API authentication", () => {
  it.each(["/connection", "/antavo", "/mapping", "/settings"])("refuses %s without the admin token", async (path) => {
    const missing = await admin(path, { token: null });
    expect(missing.status).toBe(401);
    expect((await json(missing)).error.code).toBe("unauthorized");
    expect((await admin(path, { token: "wrong" })).status).toBe(401);
  });

  it("serves healthz without auth", async () => {
    const response = await admin("/../healthz", { token: null });
    expect(response.status).toBe(200);
  });
});

describe("connections", () => {
  it("round-trips the Bloomreach connection without ever returning or storing the secret in plaintext", async () => {
    const before = await json(await admin("/connection"));
    expect(before).toMatchObject({ configured: false, apiSecretSet: false });

    const put = await admin("/connection", { body: connection });
    expect(put.status).toBe(200);
    const putText = await put.text();
    expect(putText).not.toContain("TOP-SECRET");
    expect(JSON.parse(putText)).toMatchObject({
      configured: true,
      baseUrl: "https://api.exponea.test",
      projectToken: "proj-token",
      apiKeyId: "key-id",
      apiSecretSet: true,
      deliveryState: "active",
    });

    const getText = await (await admin("/connection")).text();
    expect(getText).not.toContain("TOP-SECRET");
    const stored = await dumpTable("bloomreach_connection");
    expect(stored).not.toContain("TOP-SECRET");
    expect(stored).toMatch(/v1:/);
  });

  it("keeps the stored secret when a later update omits it, and requires it the first time", async () => {
    const { apiSecret: _, ...withoutSecret } = antavo;
    const first = await admin("/antavo", { body: withoutSecret });
    expect(first.status).toBe(400);
    expect((await json(first)).error.issues).toEqual([{ path: "apiSecret", message: "is required" }]);
    expect(await dumpTable("antavo_connection")).toBe("[]");

    expect((await admin("/antavo", { body: antavo })).status).toBe(200);
    const sealed = await dumpTable("antavo_connection");
    const update = await admin("/antavo", { body: { ...withoutSecret, apiKey: "antavo-key-2" } });
    expect(await json(update)).toMatchObject({ apiKey: "antavo-key-2", apiSecretSet: true });
    expect(await dumpTable("antavo_connection")).toContain(JSON.parse(sealed)[0].api_secret_enc);
    expect(await dumpTable("antavo_connection")).not.toContain("TOP-SECRET");
  });

  it("rejects a non-URL base URL with its path", async () => {
    const response = await admin("/connection", { body: { ...connection, baseUrl: "ftp://nope" } });
    expect(response.status).toBe(400);
    expect((await json(response)).error.issues[0].path).toBe("baseUrl");
  });
});

describe("mapping and settings", () => {
  // Storage is shared by the tests of one file, so the defaults are read before anything is saved.
  it("defaults to async sync with no events before anything is saved", async () => {
    expect(await json(await admin("/settings"))).toEqual({
      asyncSync: true,
      rateLimitPerSecond: 50,
      retentionDays: 30,
      dedupeWindowSeconds: 600,
      enrichmentTtlSeconds: 3600,
      antavoRateLimitPerMinute: 1200,
      events: [],
    });
  });

  it("words a refused body the way the pages do, by path (the same message catalogue)", async () => {
    const response = await admin("/settings", {
      method: "PUT",
      body: { asyncSync: "yes", rateLimitPerSecond: 0, events: [{ action: "", remoteEvent: "x" }] },
    });
    expect(response.status).toBe(400);
    const { error } = await json(response);
    expect(error.code).toBe("validation_failed");
    expect(error.issues).toEqual(
      expect.arrayContaining([
        { path: "asyncSync", message: "must be a boolean" },
        { path: "rateLimitPerSecond", message: "must be at least 1" },
        { path: "events.0.action", message: "is required" },
      ]),
    );
    expect(JSON.stringify(error)).not.toMatch(/Too small|Invalid input|expected/);
  });

  it("round-trips the mapping and locks the hard ID once set", async () => {
    const put = await admin("/mapping", { body: demoMapping });
    expect(await json(put)).toEqual(demoMapping);
    expect(await json(await admin("/mapping"))).toEqual(demoMapping);

    // Fields may change freely.
    const fewer = { ...demoMapping, fields: demoMapping.fields.slice(0, 1) };
    expect(await json(await admin("/mapping", { body: fewer }))).toEqual(fewer);

    for (const hardId of [
      { loyaltyField: "id", remoteId: "registered" },
      { loyaltyField: "email", remoteId: "Registered" },
      null,
    ]) {
      const locked = await admin("/mapping", { body: { ...demoMapping, hardId } });
      expect(locked.status).toBe(409);
      expect((await json(locked)).error.code).toBe("hard_id_locked");
    }
    expect(await json(await admin("/mapping"))).toEqual(fewer);
  });

  it("rejects a remote field mapped twice with its path", async () => {
    const response = await admin("/mapping", {
      body: {
        hardId: null,
        fields: [
          { loyaltyField: "a", remoteField: "x" },
          { loyaltyField: "b", remoteField: "x" },
        ],
      },
    });
    expect(response.status).toBe(400);
    expect((await json(response)).error.issues[0].path).toBe("fields.1.remoteField");
  });

  it("round-trips settings in the order given and defaults remoteEvent to the action", async () => {
    const response = await admin("/settings", {
      body: { asyncSync: false, events: [{ action: "opt_in", remoteEvent: "loyalty_opt_in" }, { action: "checkout" }] },
    });
    expect(await json(response)).toEqual({
      asyncSync: false,
      rateLimitPerSecond: 50,
      retentionDays: 30,
      dedupeWindowSeconds: 600,
      enrichmentTtlSeconds: 3600,
      antavoRateLimitPerMinute: 1200,
      events: [
        { action: "opt_in", remoteEvent: "loyalty_opt_in" },
        { action: "checkout", remoteEvent: "checkout" },
      ],
    });
  });
});

describe("preview", () => {
  it("shows the commands an event would produce and stores nothing", async () => {
    await admin("/mapping", { body: demoMapping });
    await admin("/settings", { body: demoSettings });
    const response = await admin("/preview", { method: "POST", body: { event: optInEvent() } });
    expect(response.status).toBe(200);
    const preview = await json(response);
    expect(preview.commands.map((c: any) => c.command)).toEqual([
      {
        name: "customers",
        data: {
          customer_ids: { registered: "Ada.Lovelace@Example.com" },
          properties: { first_name: "Ada", loyalty_points: 120, loyalty_tier: "Silver" },
          update_timestamp: 1_767_225_600,
        },
      },
      {
        name: "customers/events",
        data: {
          customer_ids: { registered: "Ada.Lovelace@Example.com" },
          event_type: "loyalty_opt_in",
          timestamp: 1_767_225_600,
          properties: { points: 50, antavo_event_id: "evt-1" },
        },
      },
    ]);
    expect(await dumpTable("inbound_events")).toBe("[]");
  });

  it("validates the previewed event with paths", async () => {
    const response = await admin("/preview", { method: "POST", body: { event: { customer: "c" } } });
    expect(response.status).toBe(400);
    expect((await json(response)).error.issues[0].path).toBe("event.action");
  });
});

describe("OpenAPI document", () => {
  it("is served without auth and describes the contracts from the live schemas", async () => {
    const response = await admin("/openapi.json", { token: null });
    expect(response.status).toBe(200);
    const doc = await json(response);
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.components.schemas.WebhookEvent.required).toEqual(["action"]);
    expect(Object.keys(doc.components.schemas.Mapping.properties)).toEqual(["hardId", "fields"]);
    expect(doc.paths["/webhooks/antavo"].post.responses).toHaveProperty("503");
  });

  it("documents every route the app serves under /api, /webhooks and /healthz, and nothing it does not serve", async () => {
    const doc = await json(await admin("/openapi.json", { token: null }));
    const served = createApp()
      .routes.filter((r) => r.method !== "ALL" && /^\/(api|webhooks|healthz)(\/|$)/.test(r.path))
      .map((r) => `${r.method.toLowerCase()} ${r.path.replaceAll(/:(\w+)/g, "{$1}")}`);
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method} ${path}`),
    );
    expect(served.length).toBeGreaterThan(20);
    expect([...new Set(served)].sort()).toEqual([...new Set(documented)].sort());
  });

  it("states the security of each route and the error envelope of each error answer", async () => {
    const doc = await json(await admin("/openapi.json", { token: null }));
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual([
      "adminToken",
      "bloomreachWebhook",
      "webhookBasic",
      "webhookJwt",
    ]);
    expect(doc.components.securitySchemes.webhookBasic).toMatchObject({ type: "http", scheme: "basic" });
    expect(doc.components.securitySchemes.adminToken).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.paths["/webhooks/antavo"].post.security).toEqual([{ webhookBasic: [] }, { webhookJwt: [] }]);
    expect(doc.paths["/webhooks/bloomreach"].post.security).toEqual([{ bloomreachWebhook: [] }]);
    expect(doc.components.schemas.Error.properties.error.required).toEqual(["code", "message", "requestId"]);
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, operation] of Object.entries(item)) {
        if (path.startsWith("/api/") && path !== "/api/openapi.json")
          expect(operation.security, `${method} ${path}`).toEqual([{ adminToken: [] }]);
        for (const [status, response] of Object.entries(operation.responses as Record<string, any>))
          if (Number(status) >= 400)
            expect(response.content["application/json"].schema, `${method} ${path} ${status}`).toEqual({
              $ref: "#/components/schemas/Error",
            });
      }
    }
    expect(doc.paths["/api/openapi.json"].get.security).toBeUndefined();
  });
});
