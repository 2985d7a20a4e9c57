/**
 * Counts admin-token attempts (UI login and API bearer token share one budget per client address:
 * both guess the same token) in the address's RateLimiter object; see domain/auth-throttle.
 */
import type { RelayDeps } from "../composition";
import { type AttemptVerdict, throttleKey } from "../domain/auth-throttle";
import { RelayError } from "../lib/errors";

export async function registerAdminAttempt(
  deps: Pick<RelayDeps, "rateLimiter" | "now">,
  address: string,
  failed: boolean,
): Promise<AttemptVerdict> {
  const namespace = deps.rateLimiter;
  const limiter = namespace.get(namespace.idFromName(`admin-auth:${throttleKey(address)}`));
  try {
    return await limiter.registerAuthAttempt(failed, deps.now());
  } catch {
    // Without the count the attempt cannot be judged: refuse it rather than let guesses through.
    throw new RelayError("unavailable", "the sign-in throttle is unavailable; try again shortly");
  }
}

export const retryAfterMessage = (seconds: number) =>
  `too many failed attempts from this address; try again in ${Math.ceil(seconds / 60)} minute(s)`;
