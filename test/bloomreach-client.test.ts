import { afterEach, describe, expect, it } from "vitest";
import { type BatchResult, createBloomreachClient } from "../src/bloomreach/client";
import type { BloomreachCommand } from "../src/domain/commands";
import { FakeBloomreach } from "./fakes/fake-bloomreach";

const creds = {
  baseUrl: "https://api.bloomreach.test",
  projectToken: "proj-token-1",
  apiKeyId: "key-id-1",
  apiSecret: "sup3r-s3cret-value",
};
const basicValue = btoa(`${creds.apiKeyId}:${creds.apiSecret}`);
const NOW = Date.UTC(2024, 4, 6, 7, 8, 9);

let fake: FakeBloomreach;
function setup(overrides: Partial<typeof creds> = {}, timeoutMs?: number) {
  fake = new FakeBloomreach({ ...creds, now: () => NOW });
  let t = NOW;
  const client = createBloomreachClient(
    { ...creds, ...overrides },
    // Each reading of the clock moves it 25 ms, so durations are deterministic.
    { fetch: fake.fetch, now: () => (t += 25), ...(timeoutMs === undefined ? {} : { timeoutMs }) },
  );
  return client;
}

afterEach(() => fake?.assertNoUnexpected());

type EventCommand = Extract<BloomreachCommand, { name: "customers/events" }>;
const event = (n: number): EventCommand => ({
  name: "customers/events",
  data: {
    customer_ids: { registered: `c${n}@example.com` },
    event_type: "loyalty_opt_in",
    timestamp: 1_714_979_289 + n,
    properties: { n },
  },
});
const customer = (n: number): BloomreachCommand => ({
  name: "customers",
  command_id: `cmd-${n}`,
  data: {
    customer_ids: { registered: `c${n}@example.com` },
    properties: { loyalty_points: n },
    update_timestamp: 1_714_979_289,
  },
});

function expectNoSecret(result: unknown) {
  const text = JSON.stringify(result);
  expect(text).not.toContain(creds.apiSecret);
  expect(text).not.toContain(basicValue);
}

describe("sendBatch: success", () => {
  it("delivers every command, one outcome each, in request order", async () => {
    const client = setup();
    const result = await client.sendBatch([event(1), customer(2), event(3)]);
    expect(result.outcomes).toEqual([{ status: "delivered" }, { status: "delivered" }, { status: "delivered" }]);
    expect(result.httpStatus).toBe(200);
    expect(result.durationMs).toBe(25);
    expect(result.authFailure).toBeUndefined();
    expect(fake.events().map((e) => e.properties.n)).toEqual([1, 3]);
    expect(fake.customers()).toHaveLength(1);
    expect(JSON.parse(result.requestBody)).toEqual({ commands: [event(1), customer(2), event(3)] });
    expectNoSecret(result);
  });

  it("sends only name, command_id and data (a planner's `source` stays home)", async () => {
    const client = setup();
    const withSource = { ...event(1), source: { kind: "mapping" } } as unknown as BloomreachCommand;
    const result = await client.sendBatch([withSource]);
    expect(result.outcomes).toEqual([{ status: "delivered" }]);
    expect(result.requestBody).not.toContain("source");
  });

  it("reports commands without a result as outcome_unknown (not retry: they may be applied), and says why", async () => {
    const client = setup();
    fake.script({ status: 200, body: { success: true, results: [{ success: true }] } });
    const result = await client.sendBatch([event(1), event(2), event(3)]);
    expect(result.outcomes[0]).toEqual({ status: "delivered" });
    for (const o of result.outcomes.slice(1)) {
      expect(o.status).toBe("outcome_unknown");
      expect(o.status === "outcome_unknown" && o.error).toMatch(/1 results for 3 commands/);
    }
  });

  it("reads at most 1 MiB of an answer: a huge 2xx leaves its commands outcome_unknown", async () => {
    const client = setup();
    const huge = JSON.stringify({ success: true, results: [{ success: true }], pad: "x".repeat(3 * 1024 * 1024) });
    fake.script({ status: 200, body: huge });
    const result = await client.sendBatch([event(1)]);
    expect(result.outcomes.map((o) => o.status)).toEqual(["outcome_unknown"]);
    expect(result.responseBody!.length).toBeLessThan(5_000);
  });

  it("reports every command of a 2xx with an HTML or non-JSON body as outcome_unknown", async () => {
    const client = setup();
    fake.script({ status: 200, body: "<html><body>Maintenance</body></html>" });
    const result = await client.sendBatch([event(1), event(2)]);
    expect(result.outcomes.map((o) => o.status)).toEqual(["outcome_unknown", "outcome_unknown"]);
  });
});

describe("sendBatch: per-command failure among successes", () => {
  it("marks only the failed command dead, with Bloomreach's errors", async () => {
    const client = setup();
    fake.failCommands((c) => c.name === "customers", "Property value too long");
    const result = await client.sendBatch([event(1), customer(2), event(3)]);
    expect(result.outcomes).toEqual([
      { status: "delivered" },
      { status: "dead", error: "Property value too long" },
      { status: "delivered" },
    ]);
    expect(fake.commands).toHaveLength(2);
  });

  it("joins several errors of one command", async () => {
    const client = setup();
    fake.script({ status: 200, body: { success: true, results: [{ success: false, errors: ["a bad", "b bad"] }] } });
    const result = await client.sendBatch([event(1)]);
    expect(result.outcomes).toEqual([{ status: "dead", error: "a bad; b bad" }]);
  });
});

describe("sendBatch: transient failures are retried", () => {
  it("429 with Retry-After seconds", async () => {
    const client = setup();
    fake.script({ status: 429, retryAfter: 30 });
    const result = await client.sendBatch([event(1), event(2)]);
    expect(result.httpStatus).toBe(429);
    expect(result.outcomes).toEqual([
      { status: "retry", error: "HTTP 429: Too many requests", retryAfterSeconds: 30 },
      { status: "retry", error: "HTTP 429: Too many requests", retryAfterSeconds: 30 },
    ]);
    expect(fake.events()).toHaveLength(0);
  });

  it("429 with an HTTP-date Retry-After, measured from the injected clock", async () => {
    const client = setup();
    fake.script({ status: 429, retryAfter: new Date(NOW + 120_000).toUTCString() });
    const [outcome] = (await client.sendBatch([event(1)])).outcomes;
    expect(outcome).toMatchObject({ status: "retry" });
    // The clock has advanced 50 ms by the time the header is read.
    expect(outcome?.status === "retry" && outcome.retryAfterSeconds).toBe(120);
  });

  it("429 without Retry-After leaves the delay to the backoff", async () => {
    const client = setup();
    fake.script({ status: 429 });
    const result = await client.sendBatch([event(1)]);
    expect(result.outcomes).toEqual([{ status: "retry", error: "HTTP 429: Too many requests" }]);
  });

  it.each([500, 502, 503, 504])("%i", async (status) => {
    const client = setup();
    fake.script({ status, retryAfter: status === 503 ? "7" : undefined });
    const result = await client.sendBatch([event(1)]);
    expect(result.httpStatus).toBe(status);
    expect(result.outcomes[0]).toMatchObject({ status: "retry", error: `HTTP ${status}: Internal server error` });
    if (status === 503) expect(result.outcomes[0]).toMatchObject({ retryAfterSeconds: 7 });
  });

  // Behaviour change (domain/vendor-status): these were dead before; a server-side fault says nothing
  // about the commands, and invariant 5 retries every 5xx within the bounded schedule.
  it.each([501, 505, 507])("%i, a 5xx Bloomreach does not list, is retried too", async (status) => {
    const client = setup();
    fake.script({ status });
    const result = await client.sendBatch([event(1), event(2)]);
    expect(result.authFailure).toBeUndefined();
    expect(result.outcomes).toEqual([
      { status: "retry", error: `HTTP ${status}: Internal server error` },
      { status: "retry", error: `HTTP ${status}: Internal server error` },
    ]);
  });

  it("a timeout aborts the request and retries", async () => {
    const client = setup({}, 1);
    fake.script({ kind: "timeout" });
    const result = await client.sendBatch([event(1), event(2)]);
    expect(result.httpStatus).toBeUndefined();
    expect(result.outcomes).toEqual([
      { status: "retry", error: "timeout: no answer within 1 ms" },
      { status: "retry", error: "timeout: no answer within 1 ms" },
    ]);
  });

  it("a reset connection retries", async () => {
    const client = setup();
    fake.script({ kind: "reset" });
    const result = await client.sendBatch([event(1)]);
    expect(result.httpStatus).toBeUndefined();
    expect(result.outcomes).toEqual([{ status: "retry", error: "network error: Network connection lost." }]);
  });

  it("recovers on the next call once the faults are used up", async () => {
    const client = setup();
    fake.script({ status: 503 }, { kind: "reset" });
    expect((await client.sendBatch([event(1)])).outcomes[0]?.status).toBe("retry");
    expect((await client.sendBatch([event(1)])).outcomes[0]?.status).toBe("retry");
    expect((await client.sendBatch([event(1)])).outcomes[0]?.status).toBe("delivered");
    expect(fake.calls).toBe(3);
    expect(fake.duplicateEvents()).toEqual([]);
  });
});

describe("sendBatch: auth failures pause instead of burning retries", () => {
  it("401 (unknown key id): retry + authFailure", async () => {
    const client = setup({ apiKeyId: "wrong-key" });
    const result = await client.sendBatch([event(1), event(2)]);
    expect(result.authFailure).toEqual({ status: 401, message: "HTTP 401: Unknown API key" });
    expect(result.outcomes.map((o) => o.status)).toEqual(["retry", "retry"]);
    expect(fake.events()).toHaveLength(0);
  });

  it("403 (wrong secret): retry + authFailure, and the wrong secret is not echoed", async () => {
    const client = setup({ apiSecret: "wrong-secret-xyz" });
    const result = await client.sendBatch([event(1)]);
    expect(result.authFailure).toEqual({ status: 403, message: "HTTP 403: Invalid API secret" });
    expect(result.outcomes).toEqual([{ status: "retry", error: "HTTP 403: Invalid API secret" }]);
    expect(JSON.stringify(result)).not.toContain("wrong-secret-xyz");
  });
});

describe("sendBatch: permanent failures are dead", () => {
  it("batch-level 400 Invalid JSON", async () => {
    const client = setup();
    fake.script({ status: 400, body: { success: false, message: "Invalid JSON" } });
    const result = await client.sendBatch([event(1), event(2)]);
    expect(result.httpStatus).toBe(400);
    expect(result.authFailure).toBeUndefined();
    expect(result.outcomes).toEqual([
      { status: "dead", error: "HTTP 400: Invalid JSON" },
      { status: "dead", error: "HTTP 400: Invalid JSON" },
    ]);
  });

  it("404 (wrong project token) is dead", async () => {
    const client = setup({ projectToken: "other-token" });
    const result = await client.sendBatch([event(1)]);
    expect(result.outcomes).toEqual([{ status: "dead", error: "HTTP 404: Project not found" }]);
  });

  it.each([
    [{ error: "bad token" }, "HTTP 400: bad token"],
    [{ errors: ["first", "second"] }, "HTTP 400: first; second"],
    [
      { errors: { customer_ids: "required", event_type: ["too long"] } },
      "HTTP 400: customer_ids: required; event_type: too long",
    ],
    [{ success: false, message: "No commands" }, "HTTP 400: No commands"],
    [{ success: false }, "HTTP 400"],
    ["<html><body>Bad Request</body></html>", "HTTP 400"],
  ])("error body %j reads as %s", async (body, expected) => {
    const client = setup();
    fake.script({ status: 400, body });
    const result = await client.sendBatch([event(1)]);
    expect(result.outcomes).toEqual([{ status: "dead", error: expected }]);
  });
});

describe("sendBatch: guards and hygiene", () => {
  it("refuses more than 50 or zero commands without calling Bloomreach", async () => {
    const client = setup();
    const many = Array.from({ length: 51 }, (_, i) => event(i));
    await expect(client.sendBatch(many)).rejects.toThrow(RangeError);
    await expect(client.sendBatch([])).rejects.toThrow(RangeError);
    expect(fake.calls).toBe(0);
    const fifty = await client.sendBatch(many.slice(0, 50));
    expect(fifty.outcomes).toHaveLength(50);
    expect(fake.events()).toHaveLength(50);
  });

  it("never returns the secret, even when the vendor or the network echoes it", async () => {
    const client = setup();
    fake.script({ status: 400, body: { error: `bad credentials ${creds.apiSecret} / Basic ${basicValue}` } });
    const echoed = await client.sendBatch([event(1)]);
    expect(echoed.outcomes[0]).toMatchObject({ status: "dead" });
    expectNoSecret(echoed);

    const throwing = createBloomreachClient(creds, {
      fetch: async () => {
        throw new TypeError(`connect failed for ${creds.apiKeyId}:${creds.apiSecret}`);
      },
    });
    const failed: BatchResult = await throwing.sendBatch([event(1)]);
    expect(failed.outcomes[0]).toMatchObject({ status: "retry" });
    expectNoSecret(failed);
  });

  it("truncates a huge response body to about 4 KB", async () => {
    const client = setup();
    fake.script({ status: 500, body: "x".repeat(20_000) });
    const result = await client.sendBatch([event(1)]);
    expect(result.responseBody?.length).toBeLessThan(4200);
    expect(result.responseBody).toMatch(/truncated/);
    expect(result.outcomes[0]).toEqual({ status: "retry", error: "HTTP 500" });
  });
});

describe("testConnection", () => {
  const probe = { registered: "probe@example.com" };

  it("passes all three checks against a healthy project", async () => {
    const client = setup();
    const result = await client.testConnection(probe);
    expect(result.ok).toBe(true);
    expect(result.checks.map((c) => [c.name, c.ok])).toEqual([
      ["reachability", true],
      ["credentials", true],
      ["permissions", true],
    ]);
    expectNoSecret(result);
  });

  it("network error: reachability fails, the rest are skipped", async () => {
    const client = setup();
    fake.script({ kind: "reset" });
    const result = await client.testConnection(probe);
    expect(result.ok).toBe(false);
    expect(result.checks[0]).toMatchObject({ name: "reachability", ok: false });
    expect(result.checks[0]?.message).toMatch(/cannot reach https:\/\/api\.bloomreach\.test: network error/);
    expect(result.checks.slice(1)).toEqual([
      { name: "credentials", ok: false, skipped: true, message: expect.stringMatching(/^skipped: /) },
      { name: "permissions", ok: false, skipped: true, message: expect.stringMatching(/^skipped: /) },
    ]);
    expect(fake.calls).toBe(1);
  });

  it("reads Bloomreach's clock as seconds with the skew, and ignores a time that is not Unix seconds", async () => {
    const client = setup();
    fake.script({ route: "time", status: 200, body: { success: true, time: 1_767_225_600.25 } });
    const result = await client.testConnection(probe);
    expect(result.checks[0]).toMatchObject({ ok: true, serverTime: 1_767_225_600.25 });
    expect(result.checks[0]?.message).toMatch(
      /Bloomreach's clock reads 2026-01-01T00:00:00Z \(UTC\), \d+ s (ahead of|behind) the relay's/,
    );
    fake.script({ route: "time", status: 200, body: { success: true, time: 1_767_225_600_000 } });
    const milliseconds = await client.testConnection(probe);
    expect(milliseconds.checks[0]).not.toHaveProperty("serverTime");
    expect(milliseconds.checks[0]?.message).not.toMatch(/clock/);
  });

  it("timeout: reachability fails", async () => {
    const client = setup({}, 1);
    fake.script({ kind: "timeout" });
    const result = await client.testConnection(probe);
    expect(result.checks[0]).toMatchObject({ name: "reachability", ok: false });
    expect(result.checks[0]?.message).toMatch(/timeout/);
  });

  it("404 (wrong project token): reachability fails and says what to check", async () => {
    const client = setup({ projectToken: "nope" });
    const result = await client.testConnection(probe);
    expect(result.checks[0]).toEqual({
      name: "reachability",
      ok: false,
      message: "HTTP 404 from https://api.bloomreach.test: check the base URL and the project token",
    });
  });

  it("a non-JSON answer says the base URL is probably not Bloomreach", async () => {
    const client = setup();
    fake.script({ route: "time", status: 200, body: "<html>welcome</html>" });
    const result = await client.testConnection(probe);
    expect(result.checks[0]?.ok).toBe(false);
    expect(result.checks[0]?.message).toMatch(/not with JSON/);
    expect(result.checks[1]?.message).toMatch(/^skipped/);
  });

  it("401: credentials fail with the reason, permissions skipped", async () => {
    const client = setup({ apiKeyId: "wrong-key" });
    const result = await client.testConnection(probe);
    expect(result.ok).toBe(false);
    expect(result.checks[0]?.ok).toBe(true);
    expect(result.checks[1]).toMatchObject({ name: "credentials", ok: false });
    expect(result.checks[1]?.message).toBe("rejected with HTTP 401 (unknown API key id)");
    expect(result.checks[2]).toMatchObject({
      name: "permissions",
      ok: false,
      message: expect.stringMatching(/^skipped/),
    });
  });

  it("403: credentials fail without echoing the secret", async () => {
    const client = setup({ apiSecret: "wrong-secret-xyz" });
    const result = await client.testConnection(probe);
    expect(result.checks[1]).toMatchObject({ name: "credentials", ok: false });
    expect(result.checks[1]?.message).toBe("rejected with HTTP 403 (wrong API secret or missing permission)");
    expect(JSON.stringify(result)).not.toContain("wrong-secret-xyz");
  });

  it("5xx on the credentials probe: cannot check, permissions skipped", async () => {
    const client = setup();
    fake.script({ route: "attributes", status: 503 });
    const result = await client.testConnection(probe);
    expect(result.checks[1]).toMatchObject({ name: "credentials", ok: false });
    expect(result.checks[1]?.message).toMatch(/could not check.*HTTP 503/);
    expect(result.checks[2]?.message).toMatch(/^skipped/);
  });

  it("No permission per item: permissions fail", async () => {
    const client = setup();
    fake.withoutGetPermission();
    const result = await client.testConnection(probe);
    expect(result.ok).toBe(false);
    expect(result.checks[1]).toMatchObject({ name: "credentials", ok: true });
    expect(result.checks[2]).toMatchObject({ name: "permissions", ok: false });
    expect(result.checks[2]?.message).toMatch(/missing permission.*grant Get and Set/);
  });

  it("never throws, even when fetch itself throws synchronously", async () => {
    const client = createBloomreachClient(creds, {
      fetch: (() => {
        throw new Error("boom");
      }) as typeof fetch,
    });
    const result = await client.testConnection(probe);
    expect(result.ok).toBe(false);
    expect(result.checks[0]?.message).toMatch(/network error: boom/);
  });
});

describe("FakeBloomreach fails closed", () => {
  it("flags millisecond timestamps, empty customer_ids and stray fields", async () => {
    const local = new FakeBloomreach(creds);
    const client = createBloomreachClient(creds, { fetch: local.fetch });
    const ms: EventCommand = { ...event(1), data: { ...event(1).data, timestamp: 1_714_979_289_000 } };
    const empty: EventCommand = { ...event(2), data: { ...event(2).data, customer_ids: {} } };
    const result = await client.sendBatch([ms, empty]);
    expect(result.outcomes[1]).toEqual({ status: "dead", error: "At least one id should be specified." });
    expect(local.unexpected.join("\n")).toMatch(/milliseconds/);
    expect(local.unexpected.join("\n")).toMatch(/customer_ids/);
    expect(() => local.assertNoUnexpected()).toThrow();
  });

  it("flags an unknown host and an unsigned request", async () => {
    const local = new FakeBloomreach(creds);
    await local.fetch("https://elsewhere.test/track/v2/projects/proj-token-1/batch", { method: "POST", body: "{}" });
    await local.fetch(`${creds.baseUrl}/track/v2/projects/proj-token-1/batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ commands: [event(1)] }),
    });
    expect(local.unexpected).toHaveLength(2);
    expect(local.unexpected[1]).toMatch(/no Authorization/);
  });
});
