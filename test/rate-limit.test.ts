import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type Bucket, reservePermit } from "../src/domain/rate-limit";
import type { RateLimiter } from "../src/durable/rate-limiter";

describe("Bloomreach rate limit", () => {
  it("lets a burst of one second's budget through, then spaces calls evenly", () => {
    let bucket: Bucket | undefined;
    const waits: number[] = [];
    for (let i = 0; i < 12; i++) {
      const reservation = reservePermit(bucket, 1_000, 10);
      bucket = reservation.bucket;
      waits.push(reservation.waitMs);
    }
    expect(waits.slice(0, 10)).toEqual(Array(10).fill(0));
    expect(waits.slice(10)).toEqual([100, 200]);
  });

  it("refills with time", () => {
    let { bucket } = reservePermit(undefined, 0, 10);
    for (let i = 0; i < 9; i++) bucket = reservePermit(bucket, 0, 10).bucket;
    expect(reservePermit(bucket, 0, 10).waitMs).toBe(100);
    expect(reservePermit(bucket, 500, 10).waitMs).toBe(0);
  });

  it("is shared by every caller through one object per project", async () => {
    const stub = env.RATE_LIMITER.get(
      env.RATE_LIMITER.idFromName("proj-1"),
    ) as unknown as DurableObjectStub<RateLimiter>;
    const waits = await Promise.all(Array.from({ length: 6 }, () => stub.reserve(5)));
    expect(waits.filter((w) => w === 0)).toHaveLength(5);
    expect(Math.max(...waits)).toBeGreaterThan(0);
    const other = env.RATE_LIMITER.get(
      env.RATE_LIMITER.idFromName("proj-2"),
    ) as unknown as DurableObjectStub<RateLimiter>;
    expect(await other.reserve(5)).toBe(0);
    await runInDurableObject(stub, async (instance: RateLimiter) => {
      expect(await instance.reserve(5)).toBeGreaterThan(0);
    });
  });
});
