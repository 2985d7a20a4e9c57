/**
 * Token bucket for vendor calls (Bloomreach per project, Antavo per API host). Pure: the
 * RateLimiter Durable Object keeps the state and the clock; the bucket only says how long a caller
 * must wait for its permit. A vendor's 429 pauses the bucket, so the callers queued behind it wait
 * instead of meeting the same 429.
 */
export interface Bucket {
  tokens: number;
  updatedAtMs: number;
  /** No permit is due before this instant (a vendor asked the relay to back off). */
  pausedUntilMs?: number;
}

export interface Reservation {
  bucket: Bucket;
  waitMs: number;
}

/** Reserves one permit. Tokens may go negative: each caller queues behind the ones before it. */
export function reservePermit(bucket: Bucket | undefined, nowMs: number, perSecond: number): Reservation {
  const burst = Math.max(1, perSecond);
  const current = bucket ?? { tokens: burst, updatedAtMs: nowMs };
  const elapsed = Math.max(0, nowMs - current.updatedAtMs);
  const tokens = Math.min(burst, current.tokens + (elapsed * perSecond) / 1000) - 1;
  const tokenWait = tokens >= 0 ? 0 : Math.ceil((-tokens * 1000) / perSecond);
  const pauseWait = Math.max(0, (current.pausedUntilMs ?? 0) - nowMs);
  const next: Bucket = { tokens, updatedAtMs: nowMs };
  if (pauseWait > 0) next.pausedUntilMs = current.pausedUntilMs!;
  return { bucket: next, waitMs: tokenWait + pauseWait };
}

/** Holds every permit until `untilMs` (never shortens an existing pause). */
export function pauseBucket(bucket: Bucket | undefined, nowMs: number, untilMs: number): Bucket {
  const current = bucket ?? { tokens: 0, updatedAtMs: nowMs };
  return { ...current, pausedUntilMs: Math.max(current.pausedUntilMs ?? 0, untilMs) };
}

export interface SpareReservation extends Reservation {
  /** False: no permit was taken; ask again after `waitMs`. */
  granted: boolean;
}

/**
 * A permit for background work (a backfill): taken only while it leaves `liveShare` of the burst
 * for live callers, who reserve with `reservePermit` and so always come first. When the bucket is
 * below that floor nothing is taken and the answer says when it will be above it again.
 */
export function reserveSparePermit(
  bucket: Bucket | undefined,
  nowMs: number,
  perSecond: number,
  liveShare: number,
): SpareReservation {
  const burst = Math.max(1, perSecond);
  const current = bucket ?? { tokens: burst, updatedAtMs: nowMs };
  const elapsed = Math.max(0, nowMs - current.updatedAtMs);
  const tokens = Math.min(burst, current.tokens + (elapsed * perSecond) / 1000);
  const pauseWait = Math.max(0, (current.pausedUntilMs ?? 0) - nowMs);
  const floor = burst * Math.min(1, Math.max(0, liveShare));
  const keep = (t: number): Bucket => ({
    tokens: t,
    updatedAtMs: nowMs,
    ...(pauseWait > 0 ? { pausedUntilMs: current.pausedUntilMs! } : {}),
  });
  if (pauseWait === 0 && tokens - 1 >= floor) return { bucket: keep(tokens - 1), waitMs: 0, granted: true };
  const refillWait = Math.ceil(((floor + 1 - tokens) * 1000) / perSecond);
  return { bucket: keep(tokens), waitMs: Math.max(1, pauseWait, refillWait), granted: false };
}
