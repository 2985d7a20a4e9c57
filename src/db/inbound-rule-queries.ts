/** The inbound rules (Bloomreach event type -> Antavo event), DESIGN 4.4: read in order, replaced whole. */
import { asc } from "drizzle-orm";
import type { InboundRule } from "../domain/inbound-rules";
import type { Database } from "./client";
import { inboundRules } from "./schema";

export async function readInboundRules(db: Database): Promise<InboundRule[]> {
  const rows = await db.select().from(inboundRules).orderBy(asc(inboundRules.position));
  return rows.map((row) => ({
    eventType: row.eventType,
    antavoAction: row.antavoAction,
    data: JSON.parse(row.data) as Record<string, unknown>,
  }));
}

/** Replaces every rule in one D1 batch (atomic: nothing half-stored). */
export async function writeInboundRules(db: Database, rules: InboundRule[], nowSeconds: number): Promise<void> {
  await db.batch([
    db.delete(inboundRules),
    ...rules.map((rule, position) =>
      db.insert(inboundRules).values({
        eventType: rule.eventType,
        position,
        antavoAction: rule.antavoAction,
        data: JSON.stringify(rule.data),
        updatedAt: nowSeconds,
      }),
    ),
  ]);
}
