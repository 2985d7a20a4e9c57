/**
 * Reads and writes of the configuration tables (singletons keyed `id = 1`). Secrets arrive here
 * already encrypted; this module never sees plaintext.
 */
import { asc, eq } from "drizzle-orm";
import {
  DEFAULT_SETTINGS,
  type FieldType,
  type Mapping,
  type Settings,
  TUNABLE_SETTINGS,
  type Tunables,
} from "../domain/config";
import type { StoredWorkflow } from "../domain/workflow/engine";
import type { Database } from "./client";
import { antavoConnection, bloomreachConnection, eventSync, fieldMappings, hardIdMapping, settings } from "./schema";
import { type Settlement, settlementsForQueries, toSettlements } from "./settlement-queries";
import { activeWorkflowsQuery, toStoredWorkflows } from "./workflow-queries";

const SINGLETON = 1;

export type BloomreachConnectionRow = typeof bloomreachConnection.$inferSelect;
export type AntavoConnectionRow = typeof antavoConnection.$inferSelect;

export async function readBloomreachConnection(db: Database): Promise<BloomreachConnectionRow | undefined> {
  return db.select().from(bloomreachConnection).where(eq(bloomreachConnection.id, SINGLETON)).get();
}

export async function writeBloomreachConnection(
  db: Database,
  values: Omit<typeof bloomreachConnection.$inferInsert, "id" | "updatedAt">,
  nowSeconds: number,
): Promise<void> {
  const row = { ...values, id: SINGLETON, updatedAt: nowSeconds };
  await db.insert(bloomreachConnection).values(row).onConflictDoUpdate({ target: bloomreachConnection.id, set: row });
}

export async function setDeliveryState(
  db: Database,
  state: { deliveryState: "active" } | { deliveryState: "paused"; pausedReason: string; pausedAt: number },
): Promise<void> {
  const values =
    state.deliveryState === "active" ? { deliveryState: "active", pausedReason: null, pausedAt: null } : state;
  await db.update(bloomreachConnection).set(values).where(eq(bloomreachConnection.id, SINGLETON));
}

export async function readAntavoConnection(db: Database): Promise<AntavoConnectionRow | undefined> {
  return db.select().from(antavoConnection).where(eq(antavoConnection.id, SINGLETON)).get();
}

export async function writeAntavoConnection(
  db: Database,
  values: Omit<typeof antavoConnection.$inferInsert, "id" | "updatedAt">,
  nowSeconds: number,
): Promise<void> {
  const row = { ...values, id: SINGLETON, updatedAt: nowSeconds };
  await db.insert(antavoConnection).values(row).onConflictDoUpdate({ target: antavoConnection.id, set: row });
}

const mappingQueries = (db: Database) =>
  [
    db.select().from(hardIdMapping).where(eq(hardIdMapping.id, SINGLETON)),
    db.select().from(fieldMappings).orderBy(asc(fieldMappings.position)),
  ] as const;

function toMapping([hardId, fields]: readonly [
  (typeof hardIdMapping.$inferSelect)[],
  (typeof fieldMappings.$inferSelect)[],
]): Mapping {
  const stored = hardId[0];
  return {
    hardId: stored ? { loyaltyField: stored.loyaltyField, remoteId: stored.remoteId } : null,
    fields: fields.map(({ loyaltyField, remoteField, type }) => ({
      loyaltyField,
      remoteField,
      ...(type ? { type: type as FieldType } : {}),
    })),
  };
}

export async function readMapping(db: Database): Promise<Mapping> {
  return toMapping(await db.batch(mappingQueries(db)));
}

/** Replaces the whole mapping in one D1 batch (atomic: nothing half-stored). */
export async function writeMapping(db: Database, mapping: Mapping, nowSeconds: number): Promise<void> {
  const hardId = mapping.hardId;
  await db.batch([
    hardId
      ? db
          .insert(hardIdMapping)
          .values({ id: SINGLETON, ...hardId, updatedAt: nowSeconds })
          .onConflictDoUpdate({ target: hardIdMapping.id, set: { ...hardId, updatedAt: nowSeconds } })
      : db.delete(hardIdMapping),
    db.delete(fieldMappings),
    ...mapping.fields.map((field, position) =>
      db.insert(fieldMappings).values({ position, ...field, type: field.type ?? null }),
    ),
  ]);
}

const settingsQueries = (db: Database) =>
  [
    db.select().from(settings).where(eq(settings.id, SINGLETON)),
    db.select().from(eventSync).orderBy(asc(eventSync.position), asc(eventSync.action)),
  ] as const;

function toSettings([rows, events]: readonly [
  (typeof settings.$inferSelect)[],
  (typeof eventSync.$inferSelect)[],
]): Settings {
  const row = rows[0];
  const tunables = Object.fromEntries(TUNABLE_SETTINGS.map((name) => [name, row?.[name] ?? DEFAULT_SETTINGS[name]]));
  return {
    ...(tunables as Tunables),
    asyncSync: row?.asyncSync ?? DEFAULT_SETTINGS.asyncSync,
    events: events.map(({ action, remoteEvent }) => ({ action, remoteEvent })),
  };
}

export async function readSettings(db: Database): Promise<Settings> {
  return toSettings(await db.batch(settingsQueries(db)));
}

export interface DeliveryConfigRows {
  bloomreach?: BloomreachConnectionRow;
  antavo?: AntavoConnectionRow;
  mapping: Mapping;
  settings: Settings;
  workflows: StoredWorkflow[];
}

/**
 * Everything a delivery batch reads before it plans (both connections, the mapping, the settings,
 * the active workflows) in one D1 batch: one round trip instead of six. The settlements waiting for
 * the batch's customers ride in the same batch, for the plan calls to carry.
 */
export async function readDeliveryConfig(
  db: Database,
  settlementsFor: readonly string[] = [],
): Promise<DeliveryConfigRows & { settlements: Settlement[] }> {
  const [bloomreach, antavo, hardId, fields, settingsRows, events, active, ...waiting] = await db.batch([
    db.select().from(bloomreachConnection).where(eq(bloomreachConnection.id, SINGLETON)),
    db.select().from(antavoConnection).where(eq(antavoConnection.id, SINGLETON)),
    ...mappingQueries(db),
    ...settingsQueries(db),
    activeWorkflowsQuery(db),
    ...settlementsForQueries(db, settlementsFor),
  ]);
  return {
    settlements: toSettlements(waiting as Parameters<typeof toSettlements>[0]),
    ...(bloomreach[0] ? { bloomreach: bloomreach[0] } : {}),
    ...(antavo[0] ? { antavo: antavo[0] } : {}),
    mapping: toMapping([hardId, fields]),
    settings: toSettings([settingsRows, events]),
    workflows: toStoredWorkflows(active),
  };
}

export async function writeSettings(db: Database, value: Settings, nowSeconds: number): Promise<void> {
  const row = {
    ...Object.fromEntries(TUNABLE_SETTINGS.map((name) => [name, value[name]])),
    asyncSync: value.asyncSync,
    updatedAt: nowSeconds,
  };
  await db.batch([
    db
      .insert(settings)
      .values({ id: SINGLETON, ...row })
      .onConflictDoUpdate({ target: settings.id, set: row }),
    db.delete(eventSync),
    // The list's order is the admin's: kept as positions, read back in that order.
    ...value.events.map((event, position) => db.insert(eventSync).values({ ...event, position })),
  ]);
}
