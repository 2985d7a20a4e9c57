import { describe, expect, it } from "vitest";
import { QUEUE_MAX_DELAY_SECONDS } from "../src/domain/retry-policy";
import { classifyStatus, readVendorStatus } from "../src/domain/vendor-status";

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

describe("classifyStatus", () => {
  it.each([200, 201, 202, 204, 299])("%i is ok", (status) => {
    expect(classifyStatus(status)).toBe("ok");
  });

  // Bloomreach documents 429/500/502/503/504; the other 5xx are read as transient too (invariant 5).
  it.each([429, 500, 501, 502, 503, 504, 505, 507, 508, 511, 599])("%i is retried", (status) => {
    expect(classifyStatus(status)).toBe("retry");
  });

  it.each([401, 403])("%i is an auth failure, not a plain 4xx", (status) => {
    expect(classifyStatus(status)).toBe("auth");
  });

  it.each([400, 402, 404, 405, 408, 409, 410, 413, 422, 451, 499])("%i is dead", (status) => {
    expect(classifyStatus(status)).toBe("dead");
  });

  it.each([0, 100, 199, 300, 301, 302, 304, 307, 308, 600, 999])("%i (not a vendor answer) is dead", (status) => {
    expect(classifyStatus(status)).toBe("dead");
  });
});

describe("readVendorStatus", () => {
  it("429 is rate limited and carries Retry-After in seconds", () => {
    expect(readVendorStatus(429, "30", NOW)).toEqual({ kind: "retry", retryAfterSeconds: 30, rateLimited: true });
  });

  it("429 without Retry-After leaves the delay to the backoff (no undefined fields)", () => {
    const verdict = readVendorStatus(429, null, NOW);
    expect(verdict).toEqual({ kind: "retry", rateLimited: true });
    expect(Object.keys(verdict)).toEqual(["kind", "rateLimited"]);
  });

  it("an HTTP-date Retry-After is measured from the injected clock", () => {
    const at = new Date(NOW + 120_000).toUTCString();
    expect(readVendorStatus(503, at, NOW)).toEqual({ kind: "retry", retryAfterSeconds: 120 });
  });

  it("a 5xx is retried but is not a rate limit", () => {
    const verdict = readVendorStatus(500, null, NOW);
    expect(verdict).toEqual({ kind: "retry" });
    expect("rateLimited" in verdict).toBe(false);
  });

  it("Retry-After is clamped to what a queue retry can express, and junk is ignored", () => {
    expect(readVendorStatus(503, "999999", NOW)).toEqual({ kind: "retry", retryAfterSeconds: QUEUE_MAX_DELAY_SECONDS });
    expect(readVendorStatus(503, "soon", NOW)).toEqual({ kind: "retry" });
  });

  it("401/403 name the status and keep Retry-After for the commands held back", () => {
    expect(readVendorStatus(401, null, NOW)).toEqual({ kind: "auth", status: 401 });
    expect(readVendorStatus(403, "60", NOW)).toEqual({ kind: "auth", status: 403, retryAfterSeconds: 60 });
  });

  it("ok and dead ignore Retry-After: nothing is retried", () => {
    expect(readVendorStatus(200, "30", NOW)).toEqual({ kind: "ok" });
    expect(readVendorStatus(400, "30", NOW)).toEqual({ kind: "dead" });
    expect(readVendorStatus(404, null, NOW)).toEqual({ kind: "dead" });
  });
});
