/**
/**
 * RateLimiter: one Durable Object per vendor budget (a Bloomreach project, the Antavo API host),
 * shared by every queue consumer and webhook, so that all of them together stay under the vendor's
 * limit; callers may pass their clock (tests inject time). Objects named `admin-auth:<address>`
 * count one client address's failed admin-token attempts instead (domain/auth-throttle); that log
 * is in storage, so eviction of the object does not forgive.
 */
import { DurableObject } from "cloudflare:workers";
import { ADMIN_AUTH_THROTTLE, type AttemptVerdict, recentFailures, registerAttempt } from "../domain/auth-throttle";
import {
  type Bucket,
  pauseBucket,
  reservePermit,
  reserveSparePermit,
  type SpareReservation,
} from "../domain/rate-limit";

const AUTH_FAILURES = "auth-failures";

export class RateLimiter extends DurableObject<Env> {
  private bucket: Bucket | undefined;

  /** Reserves one call; answers how many milliseconds the caller must wait before making it. */
  async reserve(perSecond: number, nowMs: number = Date.now()): Promise<number> {
    const reservation = reservePermit(this.bucket, nowMs, perSecond);
    this.bucket = reservation.bucket;
    return reservation.waitMs;
  }

  /** A permit only if it leaves `liveShare` of the burst to live callers (see reserveSparePermit). */
  async reserveSpare(perSecond: number, liveShare: number, nowMs: number = Date.now()): Promise<SpareReservation> {
    const reservation = reserveSparePermit(this.bucket, nowMs, perSecond, liveShare);
    this.bucket = reservation.bucket;
    return { bucket: reservation.bucket, waitMs: reservation.waitMs, granted: reservation.granted };
  }

  /** The vendor answered 429: hold every permit for `ms`. */
  async backOff(ms: number, nowMs: number = Date.now()): Promise<void> {
    this.bucket = pauseBucket(this.bucket, nowMs, nowMs + ms);
  }

  /**
   * Records one checked admin-token attempt (`failed` or not) at the caller's `nowSeconds` and says
   * whether it may stand. Storage calls run under the object's input gate, so concurrent attempts
   * from one address are counted one after another.
   */
  async registerAuthAttempt(failed: boolean, nowSeconds: number): Promise<AttemptVerdict> {
    const storage = this.ctx.storage;
    const log = (await storage.get<number[]>(AUTH_FAILURES)) ?? [];
    const outcome = registerAttempt(log, nowSeconds, failed);
    if (outcome.log.length === 0) {
      if (log.length > 0) await storage.delete(AUTH_FAILURES);
    } else if (outcome.log.length !== log.length || outcome.log.some((at, i) => at !== log[i])) {
      await storage.put(AUTH_FAILURES, outcome.log);
      // Forget the address once its failures are all old, so idle objects keep nothing.
      await storage.setAlarm(Date.now() + ADMIN_AUTH_THROTTLE.windowSeconds * 1000);
    }
    return outcome.verdict;
  }

  override async alarm(): Promise<void> {
    const log = (await this.ctx.storage.get<number[]>(AUTH_FAILURES)) ?? [];
    const left = recentFailures(log, Math.floor(Date.now() / 1000), ADMIN_AUTH_THROTTLE);
    if (left.length === 0) await this.ctx.storage.delete(AUTH_FAILURES);
    else await this.ctx.storage.setAlarm(Date.now() + ADMIN_AUTH_THROTTLE.windowSeconds * 1000);
  }
}
