/**
 * The inbound record: every accepted event (`inbound_events`, read back by the sweeper and replays)
 * and the dedupe keys that recognise redeliveries (`dedupe_keys`). One D1 batch, so one round trip
 * and one transaction: an event is inserted only while it holds its dedupe key, so a failure never
 * leaves a key without its event or the other way round. A redelivery costs one more read (which
 * event holds its key).
 */
import { and, inArray, isNotNull, isNull, lt, or } from "drizzle-orm";
import { chunk, type Database, IDS_PER_STATEMENT, rowsPerStatement } from "./client";
import { dedupeKeys, inboundEvents } from "./schema";

export interface InboundRecord {
  id: string;
  action: string;
  customerId: string;
  /** The normalised event as JSON. */
  payload: string;
  receivedAt: number;
  dedupe?: { key: string; expiresAt: number | null };
}

export interface InboundClaims {
  /** Ids of the records inserted now. */
  inserted: Set<string>;
  /** For every dedupe key asked about: the event that holds it after this batch. */
  holders: Map<string, string>;
}

const placeholders = (rows: number, columns: number) =>
  Array.from({ length: rows }, () => `(${Array(columns).fill("?").join(", ")})`).join(", ");

// Raw D1 statements: drizzle builds neither an upsert with a conditional update nor an
// insert-select over VALUES, and both must share one batch (one transaction) with the lookup.
const CLAIM_KEYS = (rows: number) => `insert into dedupe_keys (key, event_id, expires_at, claimed_at)
  values ${placeholders(rows, 4)}
  on conflict (key) do update set event_id = excluded.event_id, expires_at = excluded.expires_at,
    claimed_at = excluded.claimed_at
  where dedupe_keys.expires_at is not null and dedupe_keys.expires_at <= excluded.claimed_at`;
const INSERT_HOLDERS = (rows: number) => `insert into inbound_events (id, action, customer_id, payload, received_at)
  select column1, column2, column3, column4, column5 from (values ${placeholders(rows, 6)})
  where column6 is null or exists (select 1 from dedupe_keys where key = column6 and event_id = column1)
  on conflict do nothing
  returning id`;
const HOLDERS = (rows: number) =>
  `select key, event_id as eventId from dedupe_keys where key in (${Array(rows).fill("?").join(", ")})`;

/**
 * Claims each record's dedupe key (a key whose window has passed is taken over; one kept for the
 * retention never is), then inserts the records that hold their key, or that have none.
 */
export async function claimInboundRecords(db: Database, records: InboundRecord[]): Promise<InboundClaims> {
  const d1 = db.$client;
  const keyed = records.filter((r) => r.dedupe);
  const claims = chunk(keyed, rowsPerStatement(4)).map((part) =>
    d1
      .prepare(CLAIM_KEYS(part.length))
      .bind(...part.flatMap((r) => [r.dedupe!.key, r.id, r.dedupe!.expiresAt, r.receivedAt])),
  );
  const inserts = chunk(records, rowsPerStatement(6)).map((part) =>
    d1
      .prepare(INSERT_HOLDERS(part.length))
      .bind(...part.flatMap((r) => [r.id, r.action, r.customerId, r.payload, r.receivedAt, r.dedupe?.key ?? null])),
  );
  const inserted = new Set<string>();
  const holders = new Map<string, string>();
  const statements = [...claims, ...inserts];
  if (statements.length === 0) return { inserted, holders };
  for (const result of (await d1.batch(statements)).slice(claims.length)) {
    for (const row of result.results as { id: string }[]) inserted.add(row.id);
  }
  // Only a redelivery needs to know which event holds its key: the common webhook skips this read.
  const repeated = keyed.filter((r) => !inserted.has(r.id)).map((r) => r.dedupe!.key);
  for (const part of chunk(repeated, IDS_PER_STATEMENT)) {
    const { results } = await d1
      .prepare(HOLDERS(part.length))
      .bind(...part)
      .all<{ key: string; eventId: string }>();
    for (const row of results) holders.set(row.key, row.eventId);
  }
  return { inserted, holders };
}

/** Undoes a claim whose hand-off failed, so Antavo's retry is accepted rather than a duplicate. */
export async function forgetInboundRecords(db: Database, records: InboundRecord[]): Promise<void> {
  const statements = chunk(records, 45).flatMap((part) => {
    const ids = part.map((r) => r.id);
    const keys = part.flatMap((r) => (r.dedupe ? [r.dedupe.key] : []));
    return [
      db.delete(inboundEvents).where(inArray(inboundEvents.id, ids)),
      // By key (the primary key), and only where this event still holds it.
      ...(keys.length > 0
        ? [db.delete(dedupeKeys).where(and(inArray(dedupeKeys.key, keys), inArray(dedupeKeys.eventId, ids)))]
        : []),
    ];
  });
  if (statements.length > 0) await db.batch(statements as [(typeof statements)[number], ...typeof statements]);
}

/** Keys one sweep removes at most: a backlog is worked off over a few minutes, never in one statement. */
const PRUNE_KEYS_PER_SWEEP = 5_000;

/** Past their window, or past the retention: the keys no redelivery can still hit. */
export async function pruneDedupeKeys(db: Database, now: number, retentionCutoff: number): Promise<void> {
  const expired = or(
    and(isNotNull(dedupeKeys.expiresAt), lt(dedupeKeys.expiresAt, now)),
    and(isNull(dedupeKeys.expiresAt), lt(dedupeKeys.claimedAt, retentionCutoff)),
  );
  await db
    .delete(dedupeKeys)
    .where(
      inArray(
        dedupeKeys.key,
        db.select({ key: dedupeKeys.key }).from(dedupeKeys).where(expired).limit(PRUNE_KEYS_PER_SWEEP),
      ),
    );
}
