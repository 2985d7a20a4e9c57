/**
 * `POST /api/preview`: the exact plan an event would produce, from the same planner the pipeline
 * uses, against the mirrored customer. Reads only; sends and stores nothing.
 */
import { eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { customers } from "../db/schema";
import type { RelayEvent } from "../domain/event";
import { mergeSnapshot, planSync } from "../domain/planner";
import { loadSyncConfig } from "./config";

export async function readMirroredCustomer(db: Database, customerId: string): Promise<Record<string, unknown> | undefined> {
  const row = await db.select({ snapshot: customers.snapshot }).from(customers).where(eq(customers.id, customerId)).get();
  return row ? (JSON.parse(row.snapshot) as Record<string, unknown>) : undefined;
}

export async function previewEvent(deps: { db: Database }, event: RelayEvent, customerOverride?: Record<string, unknown>) {
  const [config, stored] = await Promise.all([loadSyncConfig(deps), customerOverride ? Promise.resolve(customerOverride) : readMirroredCustomer(deps.db, event.customerId)]);
  const customer = mergeSnapshot(stored, event);
  return { event, customer, ...planSync(config, event, customer) };
}
