/**
 * RateLimiter: one Durable Object per vendor budget (a Bloomreach project, the Antavo API), shared
 * by every queue consumer and webhook, so that all of them together stay under the vendor's limit.
 * Callers may pass their clock (tests inject time); otherwise the object's own is used.
 */
import { DurableObject } from "cloudflare:workers";
import { type Bucket, pauseBucket, reservePermit } from "../domain/rate-limit";

export class RateLimiter extends DurableObject<Env> {
  private bucket: Bucket | undefined;

  /** Reserves one call; answers how many milliseconds the caller must wait before making it. */
  async reserve(perSecond: number, nowMs: number = Date.now()): Promise<number> {
    const reservation = reservePermit(this.bucket, nowMs, perSecond);
    this.bucket = reservation.bucket;
    return reservation.waitMs;
  }

  /** The vendor answered 429: hold every permit for `ms`. */
  async backOff(ms: number, nowMs: number = Date.now()): Promise<void> {
    this.bucket = pauseBucket(this.bucket, nowMs, nowMs + ms);
  }
}
