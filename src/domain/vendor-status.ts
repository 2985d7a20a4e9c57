/**
 * One reading of a vendor's HTTP status for both clients (Bloomreach, Antavo), so the two cannot
 * drift apart again (DESIGN invariant 5):
 *
 * - 2xx: `ok`; what the body says is the client's business.
 * - 429 and every 5xx: `retry`. Bloomreach documents 500/502/503/504 as transient and Antavo answers
 *   "5xx" without detail; the rest (501, 505, 507, 508...) are read as transient too, because a
 *   server-side fault says nothing about the command, and invariant 5 retries "429 / 5xx". The
 *   retry schedule is bounded (MAX_DELIVERY_ATTEMPTS), so a 5xx that never heals still ends dead.
 *   A 429 is also `rateLimited`, so a shared budget can slow down.
 * - 401/403: `auth`. The credentials (or a permission) are wrong, which retrying will not fix and
 *   which no single command caused. Bloomreach pauses the project on it; Antavo has no pause, so its
 *   client reads `auth` as dead (see src/antavo/client.ts).
 * - anything else (other 4xx, 1xx, an unfollowed 3xx): `dead`, with the vendor's message.
 *
 * Network errors and timeouts never reach here (no status); the clients retry them.
 */
import { parseRetryAfter } from "./retry-policy";

export type StatusClass = "ok" | "retry" | "auth" | "dead";

export function classifyStatus(status: number): StatusClass {
  if (status >= 200 && status < 300) return "ok";
  if (status === 429 || (status >= 500 && status < 600)) return "retry";
  if (status === 401 || status === 403) return "auth";
  return "dead";
}

export type VendorVerdict =
  | { kind: "ok" }
  | { kind: "retry"; retryAfterSeconds?: number; rateLimited?: true }
  | { kind: "auth"; status: 401 | 403; retryAfterSeconds?: number }
  | { kind: "dead" };

/**
 * `classifyStatus` plus what comes with it: the vendor's Retry-After (whole seconds from `nowMs`,
 * only where a retry could honour it) and the 429 flag. Optional fields are left out, not undefined,
 * so results compare equal to literals in the tests and in logs.
 */
export function readVendorStatus(status: number, retryAfter: string | null, nowMs: number): VendorVerdict {
  const cls = classifyStatus(status);
  if (cls === "ok" || cls === "dead") return { kind: cls };
  const retryAfterSeconds = parseRetryAfter(retryAfter, nowMs);
  const after = retryAfterSeconds === undefined ? {} : { retryAfterSeconds };
  if (cls === "auth") return { kind: "auth", status: status as 401 | 403, ...after };
  return { kind: "retry", ...after, ...(status === 429 ? { rateLimited: true as const } : {}) };
}
