/**
 * Token bucket for Bloomreach calls per project. Pure: the RateLimiter Durable Object keeps the
 * state and the clock; the bucket only says how long a caller must wait for its permit.
 */
export interface Bucket {
  tokens: number;
  updatedAtMs: number;
}

export interface Reservation {
  bucket: Bucket;
  waitMs: number;
}

/** Reserves one permit. Tokens may go negative: each caller queues behind the ones before it. */
export function reservePermit(bucket: Bucket | undefined, nowMs: number, perSecond: number): Reservation {
  const burst = perSecond;
  const current = bucket ?? { tokens: burst, updatedAtMs: nowMs };
  const elapsed = Math.max(0, nowMs - current.updatedAtMs);
  const tokens = Math.min(burst, current.tokens + (elapsed * perSecond) / 1000) - 1;
  const waitMs = tokens >= 0 ? 0 : Math.ceil((-tokens * 1000) / perSecond);
  return { bucket: { tokens, updatedAtMs: nowMs }, waitMs };
}
