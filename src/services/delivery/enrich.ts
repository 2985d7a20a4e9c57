/**
 * Stage 2, enrich: one Antavo lookup per customer (shared with concurrent deliveries in the isolate),
 * then the object plans with the fuller snapshot and remembers the lookup, so the customer is not
 * looked up again within the TTL (DESIGN 4.2).
 */
import type { AntavoClient, GetCustomerResult } from "../../antavo/client";
import type { RelayEvent } from "../../domain/event";
import { addAttempt, byCustomer, type Pipeline } from "./batch";
import type { PlanCustomer } from "./plan";

export async function enrichThenPlan(p: Pipeline, needing: RelayEvent[], plan: PlanCustomer, now: number) {
  await Promise.all(
    [...byCustomer(needing)].map(async ([customerId, batch]) => {
      const started = Date.now();
      const result = await lookUpCustomer(p.antavo!, customerId, now);
      const log = (outcome: string, error?: string) => {
        for (const event of batch) {
          addAttempt(p, event.id, {
            attempt: p.jobs.get(event.id)!.attempt,
            target: "antavo",
            outcome,
            ...(error ? { error } : {}),
            request: `GET /customers/${customerId}`,
            durationMs: Date.now() - started,
            startedAt: now,
          });
        }
      };
      if (result.status === "retry") {
        log("retry", result.error);
        for (const event of batch) {
          p.extra.set(event.id, [
            {
              status: "retry",
              error: `enrichment from Antavo: ${result.error}`,
              ...(result.retryAfterSeconds ? { retryAfterSeconds: result.retryAfterSeconds } : {}),
            },
          ]);
        }
        return;
      }
      let enriched = batch;
      if (result.status === "found") {
        log("delivered");
        enriched = batch.map((event) => ({
          ...event,
          customer: { ...result.customer, ...(event.customer ?? {}), id: customerId },
        }));
      } else {
        // Unknown to Antavo, or the lookup was refused: plan with what the event carries rather than
        // lose it, and do not ask again within the TTL.
        log("dead", result.status === "not_found" ? "customer not found in Antavo" : result.error);
      }
      for (const reply of (await plan(customerId, enriched, { canEnrich: false, enrichedAt: now })) ?? []) {
        p.replies.set(reply.eventId, reply);
      }
    }),
  );
}

/**
 * Concurrent deliveries in one isolate (consumer batches, sync-mode webhooks) that need the same
 * customer share one lookup. Its answer is kept a few seconds (by the delivery clock) for deliveries
 * that planned before the first one recorded the lookup in the object.
 */
const lookups = new Map<string, { at: number; result: Promise<GetCustomerResult> }>();
const SHARED_LOOKUP_SECONDS = 30;

function lookUpCustomer(antavo: AntavoClient, customerId: string, now: number): Promise<GetCustomerResult> {
  const shared = lookups.get(customerId);
  if (shared && now - shared.at < SHARED_LOOKUP_SECONDS) return shared.result;
  for (const [id, entry] of lookups) if (now - entry.at >= SHARED_LOOKUP_SECONDS) lookups.delete(id);
  const result = antavo.getCustomer(customerId);
  // A lookup that failed transiently is not shared: the next delivery asks again.
  result.then((r) => r.status === "retry" && lookups.delete(customerId)).catch(() => lookups.delete(customerId));
  lookups.set(customerId, { at: now, result });
  return result;
}
