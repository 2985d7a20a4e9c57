/**
 * Throttle for guesses at the admin token (UI login and the API's bearer token), per client
 * address. Pure: the RateLimiter Durable Object keeps the log and passes the time in.
 *
 * A sliding window: an address whose last `limit` failures all fall within `windowSeconds` is
 * blocked until the oldest of them leaves the window. While blocked every attempt is refused, the
 * right token included: otherwise the answer (429 for a wrong guess, 200 for the right one) would
 * still tell a guesser when they hit it. Blocked attempts are not counted (the block cannot be
 * stretched forever), and a success clears the log (a mistyping admin starts afresh).
 */
export interface ThrottlePolicy {
  limit: number;
  windowSeconds: number;
}

export const ADMIN_AUTH_THROTTLE: ThrottlePolicy = { limit: 10, windowSeconds: 15 * 60 };

/** Unix seconds of the address's recent failures, oldest first, at most `limit` of them. */
export type FailureLog = readonly number[];

export type AttemptVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface AttemptOutcome {
  log: number[];
  verdict: AttemptVerdict;
}

/** The failures still inside the window at `nowSeconds`. */
export const recentFailures = (log: FailureLog, nowSeconds: number, policy: ThrottlePolicy): number[] =>
  log.filter((at) => at > nowSeconds - policy.windowSeconds);

/** Decides one attempt whose credentials have been checked (`failed`) and updates the log. */
export function registerAttempt(
  log: FailureLog,
  nowSeconds: number,
  failed: boolean,
  policy: ThrottlePolicy = ADMIN_AUTH_THROTTLE,
): AttemptOutcome {
  const recent = recentFailures(log, nowSeconds, policy);
  if (recent.length >= policy.limit) {
    const oldest = recent[recent.length - policy.limit] ?? nowSeconds;
    const retryAfterSeconds = Math.max(1, oldest + policy.windowSeconds - nowSeconds);
    return { log: recent, verdict: { allowed: false, retryAfterSeconds } };
  }
  if (!failed) return { log: [], verdict: { allowed: true } };
  return { log: [...recent, nowSeconds].slice(-policy.limit), verdict: { allowed: true } };
}

/**
 * The throttle's key for a client address: an IPv4 address as it is, an IPv6 address by its /64
 * (one subscriber's network: its 2^64 addresses would otherwise be 2^64 fresh budgets).
 */
export function throttleKey(address: string): string {
  if (!address.includes(":")) return address;
  const [head = "", tail] = address.toLowerCase().split("::", 2);
  const front = head === "" ? [] : head.split(":");
  const back = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups =
    tail === undefined ? front : [...front, ...Array(Math.max(0, 8 - front.length - back.length)).fill("0"), ...back];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}
