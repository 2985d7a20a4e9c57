/**
 * The delivery log as admins see it (list with filters and keyset paging, one delivery with its
 * attempts) and the ways events go back on the queue: replay of dead deliveries, requeue of parked
 * ones, and the sweeper's recovery of events whose queue message was lost.
 */
import { and, asc, desc, eq, gte, inArray, isNull, lt, lte, or, type SQL, sql } from "drizzle-orm";
import * as v from "valibot";
import { chunk, type Database } from "../db/client";
import type { DeliveryStatus } from "../db/delivery-queries";
import { deliveries, deliveryAttempts, inboundEvents } from "../db/schema";
import { type RelayEvent, RelayEventSchema } from "../domain/event";
import { RelayError } from "../lib/errors";
import { eventMessage, type QueueMessage } from "../queue/message";
import { sendMessages } from "../queue/producer";

export interface DeliveriesDeps {
  db: Database;
  queue: Queue<QueueMessage>;
  now: () => number;
}

export interface DeliveryQuery {
  status?: DeliveryStatus;
  customer?: string;
  since?: number;
  until?: number;
  cursor?: string;
  limit: number;
}

interface Cursor {
  at: number;
  id: string;
}

const encodeCursor = (c: Cursor) => btoa(JSON.stringify([c.at, c.id])).replace(/=+$/, "");

function decodeCursor(text: string): Cursor {
  try {
    const [at, id] = JSON.parse(atob(text)) as [unknown, unknown];
    if (typeof at === "number" && typeof id === "string") return { at, id };
  } catch {
    // fall through
  }
  throw new RelayError("validation_failed", "the cursor is not one this API returned", [
    { path: "cursor", message: "is invalid" },
  ]);
}

/** Newest first, paged by (time, id) so pages stay stable while new deliveries arrive. */
export async function listDeliveries(db: Database, query: DeliveryQuery) {
  const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
  if (query.status === "pending") return listPending(db, query, cursor);
  const conditions: (SQL | undefined)[] = [
    query.status ? eq(deliveries.status, query.status) : undefined,
    query.customer ? eq(deliveries.customerId, query.customer) : undefined,
    query.since !== undefined ? gte(deliveries.createdAt, query.since) : undefined,
    query.until !== undefined ? lte(deliveries.createdAt, query.until) : undefined,
    cursor
      ? or(lt(deliveries.createdAt, cursor.at), and(eq(deliveries.createdAt, cursor.at), lt(deliveries.id, cursor.id)))
      : undefined,
  ];
  const rows = await db
    .select()
    .from(deliveries)
    .where(and(...conditions))
    .orderBy(desc(deliveries.createdAt), desc(deliveries.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit).map(publicDelivery);
  const last = rows.length > query.limit ? rows[query.limit - 1] : undefined;
  return { items: page, nextCursor: last ? encodeCursor({ at: last.createdAt, id: last.id }) : null };
}

/** Pending = accepted but not yet through the pipeline: an inbound event without a delivery row. */
async function listPending(db: Database, query: DeliveryQuery, cursor?: Cursor) {
  const conditions: (SQL | undefined)[] = [
    isNull(deliveries.id),
    query.customer ? eq(inboundEvents.customerId, query.customer) : undefined,
    query.since !== undefined ? gte(inboundEvents.receivedAt, query.since) : undefined,
    query.until !== undefined ? lte(inboundEvents.receivedAt, query.until) : undefined,
    cursor
      ? or(
          lt(inboundEvents.receivedAt, cursor.at),
          and(eq(inboundEvents.receivedAt, cursor.at), lt(inboundEvents.id, cursor.id)),
        )
      : undefined,
  ];
  const rows = await db
    .select({
      id: inboundEvents.id,
      action: inboundEvents.action,
      customerId: inboundEvents.customerId,
      receivedAt: inboundEvents.receivedAt,
    })
    .from(inboundEvents)
    .leftJoin(deliveries, eq(deliveries.id, inboundEvents.id))
    .where(and(...conditions))
    .orderBy(desc(inboundEvents.receivedAt), desc(inboundEvents.id))
    .limit(query.limit + 1);
  const items = rows.slice(0, query.limit).map((r) => ({
    id: r.id,
    eventId: r.id,
    customerId: r.customerId,
    action: r.action,
    status: "pending" as const,
    attempts: 0,
    lastError: null,
    nextAttemptAt: null,
    createdAt: r.receivedAt,
    updatedAt: r.receivedAt,
  }));
  const last = rows.length > query.limit ? rows[query.limit - 1] : undefined;
  return { items, nextCursor: last ? encodeCursor({ at: last.receivedAt, id: last.id }) : null };
}

function publicDelivery(row: typeof deliveries.$inferSelect) {
  const { commands: _, warnings, ...rest } = row;
  return { ...rest, warnings: warnings ? (JSON.parse(warnings) as string[]) : [] };
}

export async function getDelivery(db: Database, id: string) {
  const [rows, attempts, inbound] = await db.batch([
    db.select().from(deliveries).where(eq(deliveries.id, id)),
    db.select().from(deliveryAttempts).where(eq(deliveryAttempts.deliveryId, id)).orderBy(deliveryAttempts.id),
    db.select().from(inboundEvents).where(eq(inboundEvents.id, id)),
  ]);
  const row = rows[0];
  const event = inbound[0] ? (JSON.parse(inbound[0].payload) as RelayEvent) : undefined;
  if (!row && !event) throw new RelayError("not_found", `no delivery ${id}`);
  return {
    ...(row
      ? { ...publicDelivery(row), commands: JSON.parse(row.commands) as unknown[] }
      : {
          id,
          eventId: id,
          customerId: event!.customerId,
          action: event!.action,
          status: "pending",
          attempts: 0,
          commands: [],
          warnings: [] as string[],
        }),
    event,
    attemptLog: attempts.map((a) => ({
      ...a,
      request: a.request?.startsWith("[") ? JSON.parse(a.request) : a.request,
      response: a.response?.startsWith("{") ? JSON.parse(a.response) : a.response,
    })),
  };
}

// ---- putting events back on the queue ---------------------------------------------------------

/** A stored event as the queue carries it, or undefined when the row cannot be read back. */
function readPayload(payload: string): RelayEvent | undefined {
  try {
    const parsed = v.safeParse(RelayEventSchema, JSON.parse(payload));
    return parsed.success ? parsed.output : undefined;
  } catch {
    return undefined;
  }
}

async function inboundPayloads(db: Database, ids: string[]): Promise<RelayEvent[]> {
  const events: RelayEvent[] = [];
  for (const part of chunk(ids, 90)) {
    for (const row of await db
      .select({ payload: inboundEvents.payload })
      .from(inboundEvents)
      .where(inArray(inboundEvents.id, part))) {
      const event = readPayload(row.payload);
      if (event) events.push(event);
    }
  }
  return events;
}

/** Sends the events again and marks their deliveries as retrying from now. */
async function requeueEvents(deps: DeliveriesDeps, events: RelayEvent[], replay: boolean): Promise<number> {
  if (events.length === 0) return 0;
  await sendMessages(
    deps.queue,
    events.map((e) => eventMessage(e, replay)),
  );
  const now = deps.now();
  for (const part of chunk(
    events.map((e) => e.id),
    90,
  )) {
    await deps.db
      .update(deliveries)
      .set({
        status: "retrying",
        nextAttemptAt: now,
        updatedAt: now,
        ...(replay ? { lastError: sql`'replay requested; was: ' || coalesce(${deliveries.lastError}, '')` } : {}),
      })
      .where(inArray(deliveries.id, part));
  }
  return events.length;
}

const requeue = async (deps: DeliveriesDeps, ids: string[], replay: boolean) =>
  requeueEvents(deps, await inboundPayloads(deps.db, ids), replay);

export async function replayDelivery(deps: DeliveriesDeps, id: string) {
  const row = await deps.db.select({ status: deliveries.status }).from(deliveries).where(eq(deliveries.id, id)).get();
  if (!row) throw new RelayError("not_found", `no delivery ${id}`);
  if (!REPLAYABLE_STATUSES.includes(row.status as ReplayableStatus))
    throw new RelayError("conflict", `only dead or outcome_unknown deliveries can be replayed; ${id} is ${row.status}`);
  if ((await requeue(deps, [id], true)) === 0)
    throw new RelayError("conflict", `the original event of ${id} is no longer stored (past the retention)`);
  return { id, replayed: true };
}

export const REPLAY_PAGE = 500;

/** Dead events, and events whose fate Bloomreach left unknown: replaying those is the admin's call. */
export const REPLAYABLE_STATUSES = ["dead", "outcome_unknown"] as const;
export type ReplayableStatus = (typeof REPLAYABLE_STATUSES)[number];

/**
 * Replays dead deliveries in a time window, one page per call so a large backlog never hits the
 * per-invocation limits; `remaining` tells the caller (or the UI's progress bar) to call again.
 */
export async function replayDeliveries(
  deps: DeliveriesDeps,
  window: { status?: ReplayableStatus; since?: number; until?: number },
) {
  const inWindow = and(
    eq(deliveries.status, window.status ?? "dead"),
    window.since !== undefined ? gte(deliveries.createdAt, window.since) : undefined,
    window.until !== undefined ? lte(deliveries.createdAt, window.until) : undefined,
  );
  const ids = (
    await deps.db
      .select({ id: deliveries.id })
      .from(deliveries)
      .where(inWindow)
      .orderBy(deliveries.createdAt)
      .limit(REPLAY_PAGE)
  ).map((r) => r.id);
  const replayed = await requeue(deps, ids, true);
  const [{ remaining } = { remaining: 0 }] = await deps.db
    .select({ remaining: sql<number>`count(*)` })
    .from(deliveries)
    .where(inWindow);
  return { replayed, remaining };
}

/** Deliveries parked while the connection was missing or refused, sent again once it works. */
export async function requeueParked(deps: DeliveriesDeps, limit = REPLAY_PAGE): Promise<number> {
  const ids = (
    await deps.db
      .select({ id: deliveries.id })
      .from(deliveries)
      .where(eq(deliveries.status, "paused"))
      .orderBy(deliveries.createdAt)
      .limit(limit)
  ).map((r) => r.id);
  return requeue(deps, ids, false);
}

/**
 * Recovery for messages the platform lost: events accepted but never delivered after `graceSeconds`,
 * and retries whose next attempt is long overdue. The CustomerSync objects make a requeue of
 * something still in flight harmless.
 */
/** Pages of lost hand-offs one sweep works through at most (the next sweep takes the rest). */
const STUCK_PAGES_PER_SWEEP = 4;
const UNREADABLE = "the stored event cannot be read back, so it cannot be resent";

/**
 * Recovers what the platform lost: accepted events that never got a delivery row, oldest first, and
 * retries long overdue. Each lost event gets a row (retrying, or dead when its stored copy cannot be
 * read), so it leaves the candidates and rows that cannot be resent never hide the ones that can.
 */
export async function requeueStuck(deps: DeliveriesDeps, graceSeconds: number, limit = REPLAY_PAGE): Promise<number> {
  const cutoff = deps.now() - graceSeconds;
  let requeued = 0;
  for (let page = 0; page < STUCK_PAGES_PER_SWEEP; page++) {
    const rows = await deps.db
      .select({
        id: inboundEvents.id,
        action: inboundEvents.action,
        customerId: inboundEvents.customerId,
        payload: inboundEvents.payload,
      })
      .from(inboundEvents)
      .leftJoin(deliveries, eq(deliveries.id, inboundEvents.id))
      .where(and(isNull(deliveries.id), lt(inboundEvents.receivedAt, cutoff)))
      .orderBy(asc(inboundEvents.receivedAt), asc(inboundEvents.id))
      .limit(limit);
    const now = deps.now();
    const readable: RelayEvent[] = [];
    const logRows = rows.map((row) => {
      const event = readPayload(row.payload);
      if (event) readable.push(event);
      return {
        id: row.id,
        eventId: row.id,
        customerId: row.customerId,
        action: row.action,
        status: event ? "retrying" : "dead",
        lastError: event ? null : UNREADABLE,
        createdAt: now,
        updatedAt: now,
        nextAttemptAt: event ? now : null,
      };
    });
    for (const part of chunk(logRows, 9)) await deps.db.insert(deliveries).values(part).onConflictDoNothing();
    requeued += await requeueEvents(deps, readable, false);
    if (rows.length < limit) break;
  }
  const overdue = await deps.db
    .select({ id: deliveries.id })
    .from(deliveries)
    .where(and(eq(deliveries.status, "retrying"), lt(deliveries.nextAttemptAt, cutoff)))
    .orderBy(asc(deliveries.nextAttemptAt), asc(deliveries.id))
    .limit(limit);
  return (
    requeued +
    (await requeue(
      deps,
      overdue.map((r) => r.id),
      false,
    ))
  );
}

/** Removes log rows and inbound events older than the retention. */
export async function pruneDeliveries(db: Database, olderThan: number): Promise<void> {
  await db.batch([
    db.delete(deliveryAttempts).where(lt(deliveryAttempts.startedAt, olderThan)),
    db
      .delete(deliveries)
      .where(and(lt(deliveries.updatedAt, olderThan), inArray(deliveries.status, ["delivered", "dead"]))),
    db
      .delete(inboundEvents)
      .where(
        and(
          lt(inboundEvents.receivedAt, olderThan),
          sql`not exists (select 1 from deliveries d where d.id = ${inboundEvents.id})`,
        ),
      ),
  ]);
}
