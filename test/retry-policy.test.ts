/// <reference types="vite/client" />
// vite/client types the `?raw` import of wrangler.toml below.
import { describe, expect, it } from "vitest";
import {
  MAX_BACKOFF_SECONDS,
  MAX_DELIVERY_ATTEMPTS,
  parseRetryAfter,
  QUEUE_MAX_DELAY_SECONDS,
  retryDelaySeconds,
} from "../src/domain/retry-policy";
import wranglerToml from "../wrangler.toml?raw";

const lowest = () => 0;
const highest = () => 0.999999;

describe("retryDelaySeconds", () => {
  it("grows exponentially from ~10 s", () => {
    expect(retryDelaySeconds(1, { random: highest })).toBe(10);
    expect(retryDelaySeconds(2, { random: highest })).toBe(20);
    expect(retryDelaySeconds(3, { random: highest })).toBe(40);
    expect(retryDelaySeconds(1, { random: lowest })).toBe(5);
  });

  it("jitters within [half, full] of the step", () => {
    const seen = new Set<number>();
    for (const r of [0, 0.25, 0.5, 0.75, 0.99]) {
      const d = retryDelaySeconds(5, { random: () => r });
      expect(d).toBeGreaterThanOrEqual(80);
      expect(d).toBeLessThanOrEqual(160);
      seen.add(d);
    }
    expect(seen.size).toBe(5);
  });

  it("caps at 6 h and never exceeds the 12 h queue maximum", () => {
    for (const attempt of [15, 20, 100, 10_000, Number.MAX_SAFE_INTEGER]) {
      const d = retryDelaySeconds(attempt, { random: highest });
      expect(d).toBe(MAX_BACKOFF_SECONDS);
    }
    expect(MAX_BACKOFF_SECONDS).toBeLessThanOrEqual(QUEUE_MAX_DELAY_SECONDS);
  });

  it("treats nonsense attempt numbers as the first attempt", () => {
    expect(retryDelaySeconds(0, { random: highest })).toBe(10);
    expect(retryDelaySeconds(-3, { random: highest })).toBe(10);
    expect(retryDelaySeconds(Number.NaN, { random: highest })).toBe(10);
  });

  it("honours Retry-After as a floor, clamped to the queue maximum", () => {
    expect(retryDelaySeconds(1, { random: lowest, retryAfterSeconds: 120 })).toBe(120);
    // A Retry-After shorter than the backoff does not shorten it.
    expect(retryDelaySeconds(6, { random: lowest, retryAfterSeconds: 3 })).toBe(160);
    expect(retryDelaySeconds(1, { random: lowest, retryAfterSeconds: 999_999 })).toBe(QUEUE_MAX_DELAY_SECONDS);
  });

  it("waits at least 24 h in total before giving up, even with the unluckiest jitter", () => {
    // Queues delivers a message max_retries + 1 times, so there are MAX_DELIVERY_ATTEMPTS delays;
    // counting one fewer keeps the proof true even if that off-by-one ever goes the other way.
    let total = 0;
    for (let attempt = 1; attempt < MAX_DELIVERY_ATTEMPTS; attempt++) {
      total += retryDelaySeconds(attempt, { random: lowest });
    }
    expect(total).toBeGreaterThanOrEqual(24 * 60 * 60);
  });

  it("matches max_retries in every wrangler.toml environment", () => {
    const values = [...wranglerToml.matchAll(/^\s*max_retries\s*=\s*(\d+)/gm)].map((m) => Number(m[1]));
    expect(values.length).toBeGreaterThanOrEqual(3);
    for (const v of values) expect(v).toBe(MAX_DELIVERY_ATTEMPTS);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.UTC(2024, 4, 6, 7, 8, 9);

  it("reads delta-seconds", () => {
    expect(parseRetryAfter("30", now)).toBe(30);
    expect(parseRetryAfter(" 7 ", now)).toBe(7);
    expect(parseRetryAfter("1.2", now)).toBe(2);
  });

  it("reads an HTTP-date relative to now", () => {
    expect(parseRetryAfter("Mon, 06 May 2024 07:09:09 GMT", now)).toBe(60);
  });

  it("clamps to [1, 43200]", () => {
    expect(parseRetryAfter("0", now)).toBe(1);
    expect(parseRetryAfter("Mon, 06 May 2024 07:00:00 GMT", now)).toBe(1);
    expect(parseRetryAfter("999999", now)).toBe(43200);
  });

  it("ignores absent or unparseable values", () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter("", now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("-5", now)).toBeUndefined();
    expect(parseRetryAfter("12abc", now)).toBeUndefined();
  });
});
