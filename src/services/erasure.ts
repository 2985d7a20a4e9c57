/**
 * Erasure (DESIGN 4.6): forgets one customer. In this order, so a crash never loses what a retry of
 * the request needs: the CustomerSync object (deleteAll, keeping only the time of the erasure, so
 * events queued before it are not sent after it), then Bloomreach's anonymization when asked (the
 * hard ID still comes from the mirror), then the D1 rows (mirror, inbound events, the personal data
 * in the delivery log). An erasure of a customer the relay never saw answers zeros: erasing is
 * idempotent.
 */
import { createBloomreachClient } from "../bloomreach/client";
import { readCustomer } from "../db/customer-queries";
import { eraseCustomerRows } from "../db/erasure-queries";
import { resolveCustomerIds } from "../domain/planner";
import { errorMessage, logger } from "../lib/logger";
import { loadBloomreachCredentials, loadPlanConfig } from "./config";
import type { DeliveryDeps } from "./deliver";
import { sleepFor } from "./delivery/ports";

export type ErasureDeps = Pick<
  DeliveryDeps,
  "db" | "now" | "encryptionKey" | "customerStore" | "rateLimiter" | "fetch" | "sleep" | "nowMs" | "vendorTimeoutMs"
>;

export interface ErasureReport {
  erased: { mirror: number; events: number; deliveries: number };
  bloomreach: "anonymized" | "skipped" | `failed: ${string}`;
}

/** Tries for a request's patience, not a queue's: three calls, short waits, Retry-After up to 5 s. */
const ANONYMIZE_ATTEMPTS = 3;
const MAX_WAIT_MS = 5000;

export async function eraseCustomer(
  deps: ErasureDeps,
  customerId: string,
  options: { anonymize: boolean },
): Promise<ErasureReport> {
  const now = deps.now();
  const mirrored = await readCustomer(deps.db, customerId);
  const held = await deps.customerStore.erase(customerId, now);
  const snapshot = { ...(held.snapshot ?? {}), ...(mirrored?.snapshot ?? {}), id: customerId };
  const bloomreach = options.anonymize ? await anonymize(deps, snapshot) : "skipped";
  // Bloomreach's webhooks name the customer by the hard ID (usually the e-mail): their events, and
  // the log rows of those that never found the customer, are keyed by it rather than the Antavo id.
  const config = await loadPlanConfig(deps);
  const remoteId = config.mapping.hardId?.remoteId;
  const hardIdValue = remoteId ? resolveCustomerIds(config, snapshot)?.[remoteId] : undefined;
  const erased = await eraseCustomerRows(deps.db, customerId, hardIdValue);
  logger.info("customer erased", { customerId, ...erased, bloomreach });
  return { erased, bloomreach };
}

async function anonymize(deps: ErasureDeps, snapshot: Record<string, unknown>): Promise<ErasureReport["bloomreach"]> {
  try {
    const [credentials, config] = await Promise.all([loadBloomreachCredentials(deps), loadPlanConfig(deps)]);
    if (!credentials) return "failed: the Bloomreach connection is not configured";
    const customerIds = resolveCustomerIds(config, snapshot);
    if (!customerIds) return "failed: the relay does not know the customer's hard ID, so Bloomreach cannot be told";
    const client = createBloomreachClient(credentials, { fetch: deps.fetch, timeoutMs: deps.vendorTimeoutMs });
    const limiter = deps.rateLimiter.get(deps.rateLimiter.idFromName(credentials.projectToken));
    const clock = deps.nowMs ?? Date.now;
    const sleep = sleepFor(deps);
    let last = "";
    for (let attempt = 1; attempt <= ANONYMIZE_ATTEMPTS; attempt++) {
      const wait = await limiter.reserve(config.settings.rateLimitPerSecond, clock());
      if (wait > 0) await sleep(Math.min(wait, MAX_WAIT_MS));
      const outcome = await client.anonymize(customerIds);
      if (outcome.status === "anonymized") return "anonymized";
      if (outcome.status === "dead") return `failed: ${outcome.error}`;
      last = outcome.error;
      if (attempt < ANONYMIZE_ATTEMPTS)
        await sleep(Math.min(MAX_WAIT_MS, Math.max(500 * 2 ** attempt, (outcome.retryAfterSeconds ?? 0) * 1000)));
    }
    return `failed: ${last} (after ${ANONYMIZE_ATTEMPTS} attempts)`;
  } catch (error) {
    return `failed: ${errorMessage(error)}`;
  }
}
