/**
 * `POST /api/preview`: the exact plan an event would produce, from the same planner the pipeline
 * uses, against the mirrored customer. Reads only; sends and stores nothing.
 */
import type { Database } from "../db/client";
import { readCustomer } from "../db/customer-queries";
import type { RelayEvent } from "../domain/event";
import { planEvent } from "../domain/plan-event";
import { mergeSnapshot } from "../domain/planner";
import { loadPlanConfig } from "./config";

export async function previewEvent(deps: { db: Database; now: () => number }, event: RelayEvent, customerOverride?: Record<string, unknown>) {
  const [config, stored] = await Promise.all([loadPlanConfig(deps), customerOverride ? Promise.resolve(customerOverride) : readCustomer(deps.db, event.customerId).then((row) => row?.snapshot)]);
  const customer = mergeSnapshot(stored, event);
  const { commands, actions, warnings, claims } = planEvent(config, event, customer, deps.now());
  // A claim's follow-up actions render only with Antavo's answer; the preview lists them unrendered.
  return { event, customer, commands, actions, warnings, afterClaims: claims.map((c) => ({ claim: c.action, then: c.remaining })) };
}
