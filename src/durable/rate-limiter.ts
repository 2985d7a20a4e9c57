/**
 * RateLimiter: one Durable Object per Bloomreach project, shared by every queue consumer, so that
 * many consumers together stay under the project's calls-per-second budget.
 */
import { DurableObject } from "cloudflare:workers";
import { type Bucket, reservePermit } from "../domain/rate-limit";

export class RateLimiter extends DurableObject<Env> {
  private bucket: Bucket | undefined;

  /** Reserves one call; answers how many milliseconds the caller must wait before making it. */
  async reserve(perSecond: number): Promise<number> {
    const reservation = reservePermit(this.bucket, Date.now(), perSecond);
    this.bucket = reservation.bucket;
    return reservation.waitMs;
  }
}
