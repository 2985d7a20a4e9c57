import { describe, expect, it } from "vitest";
import { type Bucket, reservePermit, reserveSparePermit } from "../src/domain/rate-limit";

describe("backfill priority in the rate limit", () => {
  it("gives background work only the permits that leave half the burst to live calls", () => {
    let bucket: Bucket | undefined;
    const granted: boolean[] = [];
    for (let i = 0; i < 8; i++) {
      const spare = reserveSparePermit(bucket, 1_000, 10, 0.5);
      bucket = spare.bucket;
      granted.push(spare.granted);
    }
    // Ten tokens: five go to the backfill, five stay for live calls.
    expect(granted).toEqual([true, true, true, true, true, false, false, false]);
    const refused = reserveSparePermit(bucket, 1_000, 10, 0.5);
    expect(refused).toMatchObject({ granted: false, waitMs: 100 });
    // Live calls still get the five kept back at once.
    const live: number[] = [];
    for (let i = 0; i < 6; i++) {
      const reservation = reservePermit(bucket, 1_000, 10);
      bucket = reservation.bucket;
      live.push(reservation.waitMs);
    }
    expect(live).toEqual([0, 0, 0, 0, 0, 100]);
  });

  it("waits for the refill above the floor, and for a vendor's back-off", () => {
    let { bucket } = reserveSparePermit(undefined, 0, 10, 0.5);
    for (let i = 0; i < 4; i++) bucket = reserveSparePermit(bucket, 0, 10, 0.5).bucket;
    expect(reserveSparePermit(bucket, 0, 10, 0.5).granted).toBe(false);
    expect(reserveSparePermit(bucket, 100, 10, 0.5).granted).toBe(true);
    const paused = { ...bucket, pausedUntilMs: 5_000 };
    expect(reserveSparePermit(paused, 1_000, 10, 0.5)).toMatchObject({ granted: false, waitMs: 4_000 });
  });
});
