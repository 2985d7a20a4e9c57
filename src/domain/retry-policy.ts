/**
 * Retry delays for Bloomreach/Antavo deliveries. Pure so the queue consumer, the DO and the tests
 * share one schedule. Jitter spreads retries of a whole failed batch so they do not hit a
 * rate-limited project together; the jitter only ever shortens a delay by up to half, so the
 * worst case still covers a day of vendor outage before a message is dead-lettered.
 */

/** Equals `max_retries` in wrangler.toml (every environment); test/retry-policy.test.ts checks it. */
export const MAX_DELIVERY_ATTEMPTS = 20;

export const BASE_DELAY_SECONDS = 10;
export const BACKOFF_FACTOR = 2;
/** Long enough to ride out an outage, short enough that a recovered vendor is used the same day. */
export const MAX_BACKOFF_SECONDS = 6 * 60 * 60;
/** Cloudflare Queues rejects `retry({ delaySeconds })` above 12 h. */
export const QUEUE_MAX_DELAY_SECONDS = 12 * 60 * 60;

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/**
 * Seconds to wait before retrying after failed attempt number `attempt` (1-based). Equal jitter:
 * half the exponential step is fixed, half random. `retryAfterSeconds` (the vendor's Retry-After)
 * is a floor, because retrying earlier than asked only earns another 429.
 */
export function retryDelaySeconds(
  attempt: number,
  opts: { retryAfterSeconds?: number; random?: () => number } = {},
): number {
  const n = Number.isFinite(attempt) ? Math.max(1, Math.floor(attempt)) : 1;
  // Capping the exponent keeps 2^n finite for absurd attempt numbers.
  const exponent = Math.min(n - 1, 32);
  const step = Math.min(MAX_BACKOFF_SECONDS, BASE_DELAY_SECONDS * BACKOFF_FACTOR ** exponent);
  const r = clamp((opts.random ?? Math.random)(), 0, 1);
  let delay = Math.ceil(step / 2 + (step / 2) * r);
  const floor = opts.retryAfterSeconds;
  if (floor !== undefined && Number.isFinite(floor)) delay = Math.max(delay, Math.ceil(floor));
  return clamp(delay, 1, QUEUE_MAX_DELAY_SECONDS);
}

/**
 * Reads a Retry-After header (delta-seconds or HTTP-date) as whole seconds from `nowMs`, clamped to
 * what a queue retry can express. Unparseable values are ignored rather than guessed at.
 */
export function parseRetryAfter(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (value === "") return undefined;
  let seconds: number;
  if (/^\d+(\.\d+)?$/.test(value)) {
    seconds = Math.ceil(Number(value));
  } else {
    // Date.parse accepts bare numbers and other junk as dates; an HTTP-date always has a month name.
    if (!/[a-z]{3}/i.test(value)) return undefined;
    const at = Date.parse(value);
    if (Number.isNaN(at)) return undefined;
    seconds = Math.ceil((at - nowMs) / 1000);
  }
  return clamp(seconds, 1, QUEUE_MAX_DELAY_SECONDS);
}
