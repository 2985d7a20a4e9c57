import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIN_AUTH_THROTTLE, type FailureLog, registerAttempt, throttleKey } from "../src/domain/auth-throttle";
import type { RateLimiter } from "../src/durable/rate-limiter";
import { appWith } from "./support/app";
import { secrets } from "./support/http";

const WINDOW = ADMIN_AUTH_THROTTLE.windowSeconds;

describe("admin-token throttle (pure)", () => {
  it("allows ten failures, then refuses every attempt, the right one included, until the window passes", () => {
    let log: FailureLog = [];
    for (let i = 0; i < 10; i++) {
      const outcome = registerAttempt(log, 1_000 + i, true);
      expect(outcome.verdict).toEqual({ allowed: true });
      log = outcome.log;
    }
    expect(registerAttempt(log, 1_010, true).verdict).toEqual({ allowed: false, retryAfterSeconds: WINDOW - 10 });
    expect(registerAttempt(log, 1_010, false).verdict).toEqual({ allowed: false, retryAfterSeconds: WINDOW - 10 });
    // The oldest failure (at 1000) leaves the window at 1000 + WINDOW: one more attempt may stand.
    expect(registerAttempt(log, 1_000 + WINDOW - 1, false).verdict.allowed).toBe(false);
    expect(registerAttempt(log, 1_000 + WINDOW, false)).toEqual({ log: [], verdict: { allowed: true } });
    const after = registerAttempt(log, 1_000 + WINDOW, true);
    expect(after.verdict.allowed).toBe(true);
    expect(registerAttempt(after.log, 1_000 + WINDOW, true).verdict.allowed).toBe(false);
  });

  it("does not count refused attempts, so hammering does not stretch the block", () => {
    const log = Array.from({ length: 10 }, (_, i) => 1_000 + i);
    const blocked = registerAttempt(log, 1_100, true);
    expect(blocked.log).toEqual(log);
  });

  it("forgets failures older than the window and starts afresh after a success", () => {
    const old = Array.from({ length: 10 }, () => 1_000);
    expect(registerAttempt(old, 1_000 + WINDOW + 1, true).log).toEqual([1_000 + WINDOW + 1]);
    expect(registerAttempt([1_000, 1_001], 1_002, false).log).toEqual([]);
  });

  it("keys IPv4 addresses as they are and IPv6 addresses by their /64", () => {
    expect(throttleKey("203.0.113.7")).toBe("203.0.113.7");
    expect(throttleKey("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
    expect(throttleKey("2001:0DB8:0001:0002::9")).toBe("2001:db8:1:2::/64");
    expect(throttleKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(throttleKey("::1")).toBe("0:0:0:0::/64");
    expect(throttleKey("unknown")).toBe("unknown");
  });
});

/** The app with a clock the test moves, as a client at `address` sees it. */
function clientAt(address: string) {
  const clock = { now: Math.floor(Date.now() / 1000) };
  const app = appWith(() => ({ now: () => clock.now }));
  const request = (path: string, init: RequestInit = {}) =>
    app(path, { redirect: "manual", ...init, headers: { "cf-connecting-ip": address, ...init.headers } });
  return { clock, request };
}

function apiClient(address: string) {
  const { clock, request } = clientAt(address);
  const call = (token: string) => request("/api/mapping", { headers: { authorization: `Bearer ${token}` } });
  return { clock, call };
}

async function loginClient(address: string) {
  const { clock, request } = clientAt(address);
  const form = await request("/admin/login");
  const cookie = form.headers
    .getAll("set-cookie")
    .map((c) => c.split(";")[0])
    .join("; ");
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? "";
  const login = async (token: string) => {
    const response = await request("/admin/login", {
      method: "POST",
      headers: { cookie, origin: "https://relay.test", "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: csrf, token, next: "/admin" }),
    });
    return { status: response.status, retryAfter: response.headers.get("retry-after"), html: await response.text() };
  };
  return { clock, login };
}

describe("admin UI login throttle", () => {
  it("answers the 11th wrong login from one address 429 with Retry-After, the right token too, until the window passes", async () => {
    const client = await loginClient("198.51.100.1");
    for (let i = 0; i < 10; i++) expect((await client.login(`wrong-${i}`)).status).toBe(401);
    const eleventh = await client.login("wrong-10");
    expect(eleventh.status).toBe(429);
    expect(eleventh.retryAfter).toBe(String(WINDOW));
    expect(eleventh.html).toContain("Too many failed attempts");
    expect(eleventh.html).not.toContain(secrets.adminToken);
    expect((await client.login(secrets.adminToken)).status).toBe(429);

    const other = await loginClient("198.51.100.2");
    expect((await other.login("wrong")).status).toBe(401);
    expect((await other.login(secrets.adminToken)).status).toBe(303);

    client.clock.now += WINDOW;
    expect((await client.login(secrets.adminToken)).status).toBe(303);
  });
});

describe("admin API bearer-token throttle", () => {
  it("answers the 11th wrong token from one address 429 too_many_requests with Retry-After", async () => {
    const client = apiClient("198.51.100.10");
    for (let i = 0; i < 10; i++) expect((await client.call(`wrong-${i}`)).status).toBe(401);
    client.clock.now += 60;
    const eleventh = await client.call("wrong-10");
    expect(eleventh.status).toBe(429);
    expect(eleventh.headers.get("retry-after")).toBe(String(WINDOW - 60));
    const body = (await eleventh.json()) as { error: { code: string; requestId: string } };
    expect(body.error.code).toBe("too_many_requests");
    expect(body.error.requestId).toBeTruthy();
    expect((await client.call(secrets.adminToken)).status).toBe(429);

    expect((await apiClient("198.51.100.11").call(secrets.adminToken)).status).toBe(200);

    client.clock.now += WINDOW - 60;
    expect((await client.call(secrets.adminToken)).status).toBe(200);
  });

  it("shares one budget with the UI login, and counts a /64 as one address", async () => {
    const ui = await loginClient("2001:db8:aa:bb::1");
    for (let i = 0; i < 5; i++) expect((await ui.login(`wrong-${i}`)).status).toBe(401);
    for (let i = 0; i < 5; i++) expect((await apiClient(`2001:db8:aa:bb::${i + 2}`).call("wrong")).status).toBe(401);
    expect((await apiClient("2001:db8:aa:bb:ffff::9").call(secrets.adminToken)).status).toBe(429);
    expect((await ui.login(secrets.adminToken)).status).toBe(429);
    expect((await apiClient("2001:db8:aa:cc::1").call(secrets.adminToken)).status).toBe(200);
  });

  it("does not count a call without a bearer token as a guess", async () => {
    const client = clientAt("198.51.100.20");
    for (let i = 0; i < 12; i++) expect((await client.request("/api/mapping")).status).toBe(401);
    const ok = await client.request("/api/mapping", { headers: { authorization: `Bearer ${secrets.adminToken}` } });
    expect(ok.status).toBe(200);
  });
});

describe("RateLimiter object: the failure log", () => {
  const limiter = (name: string) =>
    env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(name)) as unknown as DurableObjectStub<RateLimiter>;

  it("keeps the log in storage (eviction does not forgive) and its alarm forgets it once old", async () => {
    const stub = limiter("admin-auth:test-alarm");
    const realNow = Math.floor(Date.now() / 1000);
    expect(await stub.registerAuthAttempt(true, realNow - WINDOW + 5)).toEqual({ allowed: true });
    await runInDurableObject(stub, async (_: RateLimiter, state) => {
      expect(await state.storage.get("auth-failures")).toEqual([realNow - WINDOW + 5]);
      expect(await state.storage.getAlarm()).not.toBeNull();
    });
    // The alarm checks the object's own clock: the failure is not old yet, so it stays.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await runInDurableObject(stub, async (_: RateLimiter, state) => {
      expect(await state.storage.get("auth-failures")).toHaveLength(1);
    });
    const stale = limiter("admin-auth:test-alarm-stale");
    await stale.registerAuthAttempt(true, realNow - WINDOW - 5);
    expect(await runDurableObjectAlarm(stale)).toBe(true);
    await runInDurableObject(stale, async (_: RateLimiter, state) => {
      expect(await state.storage.get("auth-failures")).toBeUndefined();
    });
  });
});
