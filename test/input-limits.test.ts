/**
 * Invariant 8: crafted input (prototype keys, deep nesting, sparse indexes, lone surrogates, huge
 * documents) is a 4xx with the offending path, stores nothing, and changes nothing for later requests.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../src/db/client";
import { parseBracketForm } from "../src/lib/bracket-form";
import { inputIssues } from "../src/lib/input-limits";
import { importCustomers } from "../src/services/customer-import";
import { optInEvent } from "./support/fixtures";
import { json, postWebhook, secrets } from "./support/http";

const FORM = "application/x-www-form-urlencoded";

function adminRaw(path: string, method: string, raw: string, contentType = "application/json") {
  return SELF.fetch(`https://relay.test/api${path}`, {
    method,
    headers: { authorization: `Bearer ${secrets.adminToken}`, "content-type": contentType },
    body: raw,
  });
}

async function refusal(response: Response, status = 400) {
  const text = await response.text();
  expect(response.status, text.slice(0, 500)).toBe(status);
  return JSON.parse(text).error as { code: string; issues?: { path: string; message: string }[] };
}

async function pathsOf(response: Response) {
  return ((await refusal(response)).issues ?? []).map((issue) => issue.path);
}

/** `arrays` arrays, one inside the other, around a number. */
const nested = (arrays: number) => `${"[".repeat(arrays)}1${"]".repeat(arrays)}`;

async function mirrored(id: string) {
  return env.DB.prepare("select id from customers where id = ?").bind(id).first();
}

async function relayStillWorks(id: string) {
  const webhook = await postWebhook(optInEvent({ id }));
  expect(webhook.status, (await webhook.clone().text()).slice(0, 500)).toBe(202);
  const login = await SELF.fetch("https://relay.test/admin/login");
  expect(login.status).toBe(200);
}

describe("input limits: the pure walker", () => {
  it("walks 100,000 levels without recursion and names the first too-deep path", () => {
    let deep: unknown = "leaf";
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const issues = inputIssues({ events: [{ data: { items: deep } }] });
    expect(issues).toHaveLength(1);
    // events (2) → 0 (3) → data (4) → items (5) … the container at depth 33 is refused.
    expect(issues[0]!.path).toBe(`events.0.data.items${".0".repeat(28)}`);
    expect(issues[0]!.message).toMatch(/deeper than 32/);
  });

  it("names prototype keys, lone surrogates in keys and values, and non-ASCII keys where asked", () => {
    const value = JSON.parse(
      '{"__proto__": {"x": 1}, "a": {"constructor": 1, "b\\udc00": 2, "c": ["ok", "x\\ud800"]}}',
    );
    expect(inputIssues(value).map((i) => i.path)).toEqual(
      expect.arrayContaining(["__proto__", "a.constructor", "a.b\udc00", "a.c.1"]),
    );
    const ascii = inputIssues(
      { data: { Größe: 1, nested: { ár: 2 } } },
      { asciiKeysAt: (p) => p.join(".") === "data" },
    );
    expect(ascii).toEqual([{ path: "data.Größe", message: "property names must be ASCII" }]);
    // A well-formed pair is fine.
    expect(inputIssues({ emoji: "😀" })).toEqual([]);
  });
});

describe("1. prototype keys in the customer import", () => {
  it("refuses a CSV column __proto__.pwned with 400 and the relay keeps working", async () => {
    const response = await SELF.fetch("https://relay.test/api/customers/import", {
      method: "POST",
      headers: { authorization: `Bearer ${secrets.adminToken}`, "content-type": "text/csv" },
      body: "id,email,__proto__.pwned\nc-pp,pp@example.com,X\n",
    });
    const error = await refusal(response);
    expect(error.code).toBe("validation_failed");
    expect(error.issues).toContainEqual({ path: "header.2", message: expect.stringMatching(/__proto__/) });
    expect(await mirrored("c-pp")).toBeNull();
    expect(({} as Record<string, unknown>).pwned).toBeUndefined();
    await relayStillWorks("after-csv-proto");
  });

  it("refuses constructor / prototype segments and list indexes above 1,000 in CSV columns", async () => {
    for (const column of ["properties.constructor.prototype", "tiers.1001.name"]) {
      const response = await SELF.fetch("https://relay.test/api/customers/import", {
        method: "POST",
        headers: { authorization: `Bearer ${secrets.adminToken}`, "content-type": "text/csv" },
        body: `id,${column}\nc-col,X\n`,
      });
      expect(await pathsOf(response)).toEqual(["header.1"]);
    }
    expect(await mirrored("c-col")).toBeNull();
  });

  it("rejects NDJSON lines with prototype keys anywhere, naming line and path, and keeps the good lines", async () => {
    const lines = [
      '{"id": "nd-pp-1", "__proto__": {"pwned": "X"}}',
      '{"id": "nd-pp-2", "properties": {"constructor": {"prototype": {"pwned": "X"}}}}',
      '{"id": "nd-ok", "email": "ok@example.com"}',
    ];
    const response = await SELF.fetch("https://relay.test/api/customers/import", {
      method: "POST",
      headers: { authorization: `Bearer ${secrets.adminToken}`, "content-type": "application/x-ndjson" },
      body: `${lines.join("\n")}\n`,
    });
    expect(response.status).toBe(200);
    const summary = await json(response);
    expect(summary).toMatchObject({ imported: 1, rejectedCount: 2 });
    expect(summary.rejected).toEqual([
      { line: 1, reason: expect.stringMatching(/^__proto__: /) },
      { line: 2, reason: expect.stringMatching(/^properties\.constructor: /) },
    ]);
    expect(await mirrored("nd-pp-1")).toBeNull();
    expect(await mirrored("nd-pp-2")).toBeNull();
    expect(await mirrored("nd-ok")).not.toBeNull();
    await relayStillWorks("after-ndjson-proto");
  });

  it("stops a streamed upload at its byte limit and says where to resume", async () => {
    const chunks = ['{"id": "cap-1"}\n', '{"id": "cap-2"}\n', '{"id": "cap-3"}\n'].map((l) =>
      new TextEncoder().encode(l),
    );
    const deps = { db: openDatabase(env.DB), now: () => 1_767_225_600 };
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    // 16 bytes per line with its newline: the limit falls inside line 2.
    const summary = await importCustomers(deps, "ndjson", body, { maxBytes: 20 });
    expect(summary).toMatchObject({ imported: 1, total: 1, truncated: { nextLine: 2 } });
    expect(await mirrored("cap-2")).toBeNull();
  });
});

describe("2. lone surrogates", () => {
  it("refuses a string that is not well-formed Unicode, in a value or a key", async () => {
    const value = '{"id": "x-\\ud800", "action": "opt_in", "customer": "c-sur"}';
    expect(await pathsOf(await postWebhook(undefined, { raw: value }))).toEqual(["id"]);
    const key = '{"action": "opt_in", "customer": "c-sur", "data": {"a\\udfff": 1}}';
    expect(await pathsOf(await postWebhook(undefined, { raw: key }))).toEqual(["data.a\udfff"]);
    const batch = `{"events": [${JSON.stringify(optInEvent({ id: "sur-ok" }))}, {"action": "x\\ud83d", "customer": "c"}]}`;
    expect(await pathsOf(await postWebhook(undefined, { raw: batch }))).toEqual(["events.1.action"]);
    // A surrogate pair is one well-formed character.
    const pair = '{"id": "sur-pair-\\ud83d\\ude00", "action": "opt_in", "customer": "c-sur"}';
    expect((await postWebhook(undefined, { raw: pair })).status).toBe(202);
  });
});

describe("3. sparse form indexes", () => {
  it("refuses an index above 1,000 with the key's path, quickly, and accepts 1,000", async () => {
    for (const index of ["1001", "100000000", "999999999"]) {
      const raw = `action=checkout&customer=c-form&data[items][${index}]=x`;
      const error = await refusal(await postWebhook(undefined, { contentType: FORM, raw }));
      expect(error.code).toBe("validation_failed");
      expect(error.issues).toEqual([{ path: `data.items.${index}`, message: expect.stringMatching(/above 1000/) }]);
    }
    const ok = await postWebhook(undefined, { contentType: FORM, raw: "action=a&customer=c-form&data[items][1000]=x" });
    expect(ok.status).toBe(202);
  });

  it("keeps today's shapes: nested keys, indexes, appends, a repeated field's last value", () => {
    expect(
      parseBracketForm("data[total]=12&data[items][0][price]=5&events[1][action]=x&key[]=a&key[]=b&plain=1&plain=2"),
    ).toEqual({
      data: { total: "12", items: [{ price: "5" }] },
      events: [{ action: "x" }],
      key: ["a", "b"],
      plain: "2",
    });
    // Ordinary names that Object.prototype also has are data, not dropped.
    expect(parseBracketForm("data[toString]=x&valueOf=1")).toEqual({ data: { toString: "x" }, valueOf: "1" });
  });

  it("refuses prototype keys (also percent-encoded), deep keys, lists mixed with objects and too many fields", () => {
    expect(() => parseBracketForm("data[__proto__][x]=1")).toThrow(/reserved/);
    expect(() => parseBracketForm("%5F_proto__[x]=1")).toThrow(/reserved/);
    expect(() => parseBracketForm("a[constructor][prototype]=1")).toThrow(/reserved/);
    expect(() => parseBracketForm(`a${"[b]".repeat(32)}=1`)).toThrow(/deeper than 32/);
    expect(() => parseBracketForm(`a${"[b]".repeat(31)}=1`)).not.toThrow();
    expect(() => parseBracketForm("a[0]=x&a[b]=y")).toThrow(/mixes list and object/);
    expect(() => parseBracketForm("a[b]=1&a=2")).toThrow(/conflicts/);
    const appends = (n: number) => Array.from({ length: n }, () => "data[list][]=x").join("&");
    expect(() => parseBracketForm(appends(1001))).not.toThrow();
    expect(() => parseBracketForm(appends(1002))).toThrow(expect.objectContaining({ path: "data.list" }));
    expect(() => parseBracketForm(Array.from({ length: 10_001 }, (_, i) => `f${i}=1`).join("&"))).toThrow(
      /Parameter limit/,
    );
  });
});

describe("4. depth", () => {
  it("refuses JSON nested deeper than 32 with the path and accepts 32", async () => {
    // root (1) → data (2) → the arrays from 3 on: 31 of them reach depth 33.
    const tooDeep = `{"action": "opt_in", "customer": "c-deep", "data": {"a": ${nested(31)}}}`;
    const paths = await pathsOf(await postWebhook(undefined, { raw: tooDeep }));
    expect(paths).toEqual([`data.a${".0".repeat(30)}`]);
    const deepest = `{"id": "deep-32", "action": "opt_in", "customer": "c-deep", "data": {"a": ${nested(30)}}}`;
    expect((await postWebhook(undefined, { raw: deepest })).status).toBe(202);
  });

  it("refuses an event whose data holds an array 3,000 deep, with or without an id", async () => {
    for (const id of ['"id": "deep-3000", ', ""]) {
      const raw = `{${id}"action": "opt_in", "customer": "c-deep", "data": {"a": ${nested(3000)}}}`;
      const error = await refusal(await postWebhook(undefined, { raw }));
      expect(error.issues?.[0]?.path).toMatch(/^data\.a(\.0)+$/);
    }
    await relayStillWorks("after-deep");
  });

  it("refuses a form key nested deeper than 32", async () => {
    const raw = `action=a&customer=c&data${"[x]".repeat(32)}=1`;
    const error = await refusal(await postWebhook(undefined, { contentType: FORM, raw }));
    expect(error.issues?.[0]?.path).toBe(`data${".x".repeat(32)}`);
  });
});

describe("5. property names must be ASCII", () => {
  it("refuses non-ASCII keys in data and the customer object, allows them nested inside a value", async () => {
    const data = await postWebhook(optInEvent({ id: "ascii-1", data: { Größe: "L" } }));
    expect(await pathsOf(data)).toEqual(["data.Größe"]);
    const customer = await postWebhook(optInEvent({ id: "ascii-2", customer: { id: "c-a", név: "Ada" } }));
    expect(await pathsOf(customer)).toEqual(["customer.név"]);
    const batch = await postWebhook({ events: [optInEvent({ id: "ascii-3", data: { "point✓": 1 } })] });
    expect(await pathsOf(batch)).toEqual(["events.0.data.point✓"]);
    const form = await postWebhook(undefined, { contentType: FORM, raw: "action=a&customer=c&data[%C3%A1r]=1" });
    expect(await pathsOf(form)).toEqual(["data.ár"]);
    const nestedValue = await postWebhook(optInEvent({ id: "ascii-4", data: { answers: { kérdés: "igen" } } }));
    expect(nestedValue.status).toBe(202);
  });
});

describe("6. admin API bodies and workflow documents", () => {
  const workflow = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    name: "limits",
    trigger: { type: "event", action: "opt_in" },
    actions: [{ type: "sync_event", event: "loyalty_opt_in", properties }],
    ...extra,
  });
  const postWorkflow = (body: unknown) => adminRaw("/workflows", "POST", JSON.stringify(body));
  const workflowCount = async () =>
    (await env.DB.prepare("select count(*) as n from workflows").first<{ n: number }>())!.n;

  it("answers 413 payload_too_large for a body over 1 MiB", async () => {
    const before = await workflowCount();
    const error = await refusal(await postWorkflow(workflow({ blob: "x".repeat(1024 * 1024) })), 413);
    expect(error.code).toBe("payload_too_large");
    expect(await workflowCount()).toBe(before);
  });

  it("refuses a workflow nested 50,000 deep with the path, and prototype keys and lone surrogates in admin JSON", async () => {
    const deep = `{"name": "deep", "trigger": {"type": "event", "action": "a"}, "actions": [{"type": "sync_event", "event": "e", "properties": {"p": ${nested(50_000)}}}]}`;
    const paths = await pathsOf(await adminRaw("/workflows", "POST", deep));
    expect(paths).toEqual([`actions.0.properties.p${".0".repeat(28)}`]);
    const proto = await adminRaw("/settings", "PUT", '{"asyncSync": true, "events": [], "__proto__": {"x": 1}}');
    expect(await pathsOf(proto)).toEqual(["__proto__"]);
    const surrogate = await adminRaw(
      "/workflows",
      "POST",
      JSON.stringify(workflow({})).replace('"limits"', '"\\ud800"'),
    );
    expect(await pathsOf(surrogate)).toEqual(["name"]);
    await relayStillWorks("after-admin-deep");
  });

  it("limits properties per action, template length and the whole document", async () => {
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`p${i}`, "x"]));
    expect(await pathsOf(await postWorkflow(workflow(many)))).toEqual(["actions.0.properties"]);
    const hundred = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`p${i}`, "x"]));
    expect((await postWorkflow(workflow(hundred))).status).toBe(201);

    expect(await pathsOf(await postWorkflow(workflow({ long: "x".repeat(4097) })))).toEqual([
      "actions.0.properties.long",
    ]);

    const values = Array.from({ length: 1000 }, (_, i) => `value-${i}-${"v".repeat(60)}`);
    const big = workflow({}, { filters: [{ type: "event_attribute", attribute: "x", operator: "in", value: values }] });
    expect(await pathsOf(await postWorkflow(big))).toEqual(["$"]);
  });

  it("refuses template paths through prototype members", async () => {
    for (const template of ["{{event.__proto__}}", "{{customer.constructor}}", "{{event.items.prototype.x}}"]) {
      const response = await postWorkflow(workflow({ x: template }));
      expect(await pathsOf(response)).toEqual(["actions.0.properties.x"]);
    }
  });
});

describe("admin UI form bodies", () => {
  it("refuses a form body over 1 MiB with 413 before reading it, and still serves the login page", async () => {
    const big = `token=${"x".repeat(1024 * 1024 + 10)}`;
    const response = await SELF.fetch("https://relay.test/admin/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://relay.test" },
      body: big,
    });
    expect(response.status).toBe(413);
    expect((await SELF.fetch("https://relay.test/admin/login")).status).toBe(200);
  });
});
