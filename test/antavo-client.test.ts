import { afterEach, describe, expect, it, vi } from "vitest";
import { createAntavoClient } from "../src/antavo/client";
import { FakeAntavo } from "./fakes/fake-antavo";
import { FakeBloomreach } from "./fakes/fake-bloomreach";
import { installOutboundFakes } from "./fakes/outbound";

const conn = {
  baseUrl: "https://api.demo.antavo.com",
  environment: "demo",
  apiKey: "antavo-key",
  apiSecret: "antavo-s3cret-value",
};
const NOW = Date.UTC(2024, 4, 6, 7, 8, 9);

let fake: FakeAntavo;
function setup(overrides: Partial<typeof conn> = {}, deps: { now?: () => number; timeoutMs?: number } = {}) {
  fake = new FakeAntavo({ ...conn, now: () => NOW });
  fake.seedCustomer({ id: "cust-1", email: "a@example.com", spendable: 500, tiers: [{ name: "Gold" }] });
  fake.seedReward({ id: "rw-1", price: 200, coupon: { code: "SAVE10", type: "percent", value: 10 } });
  return createAntavoClient({ ...conn, ...overrides }, { fetch: fake.fetch, now: () => NOW, ...deps });
}

afterEach(() => fake?.assertNoUnexpected());

describe("getCustomer", () => {
  it("returns the customer from a correctly signed request", async () => {
    const client = setup();
    const result = await client.getCustomer("cust-1");
    expect(result).toEqual({
      status: "found",
      customer: { id: "cust-1", email: "a@example.com", spendable: 500, tiers: [{ name: "Gold" }] },
    });
    expect(fake.requests).toEqual([{ method: "GET", path: "/customers/cust-1" }]);
  });

  it("encodes the id into one path segment, and the signature covers the encoded path", async () => {
    const client = setup();
    fake.seedCustomer({ id: "team/42 ä", email: "t@example.com" });
    const result = await client.getCustomer("team/42 ä");
    expect(result).toMatchObject({ status: "found", customer: { email: "t@example.com" } });
  });

  it("unknown customer (404, code 160212) is not_found", async () => {
    const client = setup();
    expect(await client.getCustomer("nobody")).toEqual({ status: "not_found" });
  });

  it("an unknown customer answered with the error fields at the top level is not_found too", async () => {
    const client = setup();
    fake.script({ status: 404, body: { type: "NotFound", code: 160212, message: "Customer not found" } });
    expect(await client.getCustomer("cust-1")).toEqual({ status: "not_found" });
  });

  it("a top-level error body gives Antavo's message and code", async () => {
    const client = setup();
    fake.script({ status: 400, body: { type: "ValidationError", code: "1234", message: "Bad id" } });
    expect(await client.getCustomer("cust-1")).toEqual({
      status: "dead",
      error: "GET customer cust-1: HTTP 400: Bad id, code 1234",
    });
  });

  it("a 404 with another code is dead, with Antavo's message", async () => {
    const client = setup();
    fake.script({ status: 404, body: { error: { type: "NotFound", code: 100404, message: "No such route" } } });
    expect(await client.getCustomer("cust-1")).toEqual({
      status: "dead",
      error: "GET customer cust-1: HTTP 404: No such route, code 100404",
    });
  });

  it("429 honours Retry-After", async () => {
    const client = setup();
    fake.script({ status: 429, retryAfter: "45" });
    expect(await client.getCustomer("cust-1")).toEqual({
      status: "retry",
      error: "GET customer cust-1: HTTP 429: Too many requests, code 429",
      retryAfterSeconds: 45,
      rateLimited: true,
    });
  });

  it.each([500, 502, 503])("%i is retried", async (status) => {
    const client = setup();
    fake.script({ status });
    const result = await client.getCustomer("cust-1");
    expect(result).toMatchObject({ status: "retry" });
    expect(result.status === "retry" && result.retryAfterSeconds).toBeUndefined();
  });

  it.each([501, 504, 505])("%i is retried like every 5xx (one classifier with Bloomreach)", async (status) => {
    const client = setup();
    fake.script({ status, retryAfter: "9" });
    const result = await client.getCustomer("cust-1");
    expect(result).toMatchObject({ status: "retry", retryAfterSeconds: 9 });
    expect(result.status === "retry" && result.rateLimited).toBeUndefined();
  });

  // Unlike Bloomreach there is no pause for Antavo: retrying bad credentials would only hold every
  // enrichment and claim back for a day of backoff, so they stay dead (with Antavo's message).
  it.each([401, 403])("%i is dead, not retried", async (status) => {
    const client = setup();
    fake.script({ status, body: { error: { type: "AuthError", code: status, message: "Not allowed" } } });
    expect(await client.getCustomer("cust-1")).toEqual({
      status: "dead",
      error: `GET customer cust-1: HTTP ${status}: Not allowed, code ${status}`,
    });
  });

  it("a timeout is retried", async () => {
    const client = setup({}, { timeoutMs: 1 });
    fake.script({ kind: "timeout" });
    expect(await client.getCustomer("cust-1")).toEqual({
      status: "retry",
      error: "GET customer cust-1: timeout: no answer within 1 ms",
    });
  });

  it("a reset is retried", async () => {
    const client = setup();
    fake.script({ kind: "reset" });
    expect(await client.getCustomer("cust-1")).toEqual({
      status: "retry",
      error: "GET customer cust-1: network error: Network connection lost.",
    });
  });

  it("a 400 is dead", async () => {
    const client = setup();
    fake.script({ status: 400, body: { error: { type: "ValidationError", code: 1234, message: "Bad id" } } });
    expect(await client.getCustomer("cust-1")).toEqual({
      status: "dead",
      error: "GET customer cust-1: HTTP 400: Bad id, code 1234",
    });
  });
});

describe("signing is checked by the fake", () => {
  it("a wrong secret fails the signature: dead, and the secret is not echoed", async () => {
    const client = setup({ apiSecret: "not-the-secret" });
    const result = await client.getCustomer("cust-1");
    expect(result).toMatchObject({ status: "dead", error: expect.stringMatching(/HTTP 401/) });
    expect(JSON.stringify(result)).not.toContain("not-the-secret");
    expect(fake.unexpected).toEqual(["GET /customers/cust-1: signature mismatch"]);
    fake.unexpected.length = 0;
  });

  it("a clock an hour off is rejected as stale", async () => {
    const client = setup({}, { now: () => NOW - 3_600_000 });
    expect(await client.getCustomer("cust-1")).toMatchObject({ status: "dead" });
    expect(fake.unexpected[0]).toMatch(/stale/);
    fake.unexpected.length = 0;
  });

  it("an unsigned request is rejected and flagged", async () => {
    setup();
    const response = await fake.fetch(`${conn.baseUrl}/customers/cust-1`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { type: "AuthenticationError" } });
    expect(fake.unexpected[0]).toMatch(/missing or malformed Authorization/);
    fake.unexpected.length = 0;
  });
});

describe("claimReward", () => {
  it("free: the bulk-operation endpoint with force_claim, passing the claim through", async () => {
    const client = setup();
    const result = await client.claimReward("cust-1", "rw-1", { free: true });
    expect(result).toEqual({
      status: "claimed",
      claim: {
        spent: 0,
        id: "claim-1",
        last_claimed_at: NOW / 1000,
        coupon: { code: "SAVE10", type: "percent", value: 10 },
      },
    });
    expect(fake.requests).toEqual([{ method: "POST", path: "/v1/bulk-operation/reward/claim/rw-1" }]);
    expect(fake.claims).toEqual([{ customerId: "cust-1", rewardId: "rw-1", free: true, spent: 0, id: "claim-1" }]);
    expect(fake.customer("cust-1")?.spendable).toBe(500);
  });

  it("paid: the customer's claim endpoint with a form body, spending points", async () => {
    const client = setup();
    const result = await client.claimReward("cust-1", "rw-1", { free: false, count: 1 });
    expect(result).toMatchObject({ status: "claimed", claim: { spent: 200, id: "claim-1" } });
    expect(fake.requests).toEqual([{ method: "POST", path: "/customers/cust-1/activities/rewards/rw-1/claim" }]);
    expect(fake.claims[0]?.form).toEqual({ count: "1" });
    expect(fake.customer("cust-1")?.spendable).toBe(300);
  });

  it("paid without enough points is dead with Antavo's message", async () => {
    const client = setup();
    await client.claimReward("cust-1", "rw-1", { free: false });
    await client.claimReward("cust-1", "rw-1", { free: false });
    const third = await client.claimReward("cust-1", "rw-1", { free: false });
    expect(third).toMatchObject({ status: "dead", error: expect.stringMatching(/HTTP 400: Not enough points/) });
    expect(fake.claims).toHaveLength(2);
  });

  it("an unknown customer is dead for a claim", async () => {
    const client = setup();
    expect(await client.claimReward("nobody", "rw-1", { free: true })).toMatchObject({
      status: "dead",
      error: expect.stringMatching(/code 160212/),
    });
  });

  it("429 is retried with Retry-After; a timeout is not a retry: its outcome is unknown", async () => {
    const client = setup({}, { timeoutMs: 1 });
    fake.script({ status: 429, retryAfter: 12 }, { kind: "timeout" });
    expect(await client.claimReward("cust-1", "rw-1", { free: true })).toMatchObject({
      status: "retry",
      retryAfterSeconds: 12,
    });
    expect(await client.claimReward("cust-1", "rw-1", { free: true })).toEqual({
      status: "unknown",
      error: "claim reward rw-1 for cust-1 (outcome unknown): timeout: no answer within 1 ms",
    });
    expect(fake.claims).toHaveLength(0);
  });

  it("a 2xx with an unreadable body still counts as claimed (no second claim)", async () => {
    const client = setup();
    fake.script({ status: 200, body: "" });
    expect(await client.claimReward("cust-1", "rw-1", { free: true })).toEqual({ status: "claimed", claim: {} });
  });
});

describe("installOutboundFakes", () => {
  it("routes global fetch by origin and fails closed for any other origin", async () => {
    fake = new FakeAntavo(conn);
    fake.seedCustomer({ id: "cust-1", email: "a@example.com" });
    const bloomreach = new FakeBloomreach({
      baseUrl: "https://api.bloomreach.test",
      projectToken: "t",
      apiKeyId: "k",
      apiSecret: "s",
    });
    const restore = installOutboundFakes(fake, bloomreach);
    let restored = false;
    try {
      const client = createAntavoClient(conn, { fetch: (input, init) => fetch(input, init) });
      expect(await client.getCustomer("cust-1")).toMatchObject({ status: "found" });
      const time = await fetch("https://api.bloomreach.test/track/v2/projects/t/system/time");
      expect(await time.json()).toMatchObject({ success: true });
      await expect(fetch("https://evil.test/steal")).rejects.toThrow(
        /no fake for outbound request GET https:\/\/evil\.test/,
      );
      expect(() => {
        restored = true;
        restore();
      }).toThrow(/unexpected outbound requests/);
    } finally {
      if (!restored) restore();
    }
    bloomreach.assertNoUnexpected();
    expect(vi.isMockFunction(globalThis.fetch)).toBe(false);
  });
});
