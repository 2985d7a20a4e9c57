/**
 * The delivery log as admins see it (list with filters and keyset paging, one delivery with its
 * attempts) and the ways events go back on the queue: replay of dead deliveries, requeue of parked
 * ones, and the sweeper's recovery of events whose queue message was lost. The queries live in
 * db/delivery-log-queries.ts and db/requeue-queries.ts; this module holds the rules around them.
 */
import * as v from "valibot";
import type { Database } from "../db/client";
import {
  type DeliveryRow,
  type PageCursor,
  selectDeliveriesPage,
  selectDeliveryRecord,
  selectPendingPage,
} from "../db/delivery-log-queries";
import type { DeliveryStatus } from "../db/delivery-queries";
import {
  countDeadDeliveries,
  insertDeliveryRowsIfAbsent,
  markDeliveriesRetrying,
  REPLAY_NOTE,
  selectDeadDeliveryIds,
  selectDeliveryStatus,
  selectInboundPayloads,
  selectLostInboundEvents,
  selectOverdueRetryIds,
  selectPausedDeliveryIds,
  type TimeWindow,
} from "../db/requeue-queries";
import { type Direction, directionOf, type RelayEvent, RelayEventSchema } from "../domain/event";
import { eventMessage, type QueueMessage } from "../domain/queue-message";
import { RelayError } from "../lib/errors";
import { readAttemptLog } from "./attempt-log";
import { withActionLabels } from "./date-run-names";
import { sendMessages } from "./producer";

export interface DeliveriesDeps {
  db: Database;
  queue: Queue<QueueMessage>;
  now: () => number;
}

export interface DeliveryQuery {
  status?: DeliveryStatus;
  direction?: Direction;
  eventId?: string;
  customer?: string;
  action?: string;
  remoteEvent?: string;
  since?: number;
  until?: number;
  cursor?: string;
  limit: number;
}

type Cursor = PageCursor;

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
  const { status, cursor: _, limit: __, ...filter } = query;
  if (status === "pending") return listPending(db, query, cursor);
  const rows = await selectDeliveriesPage(db, { ...filter, ...(status ? { status } : {}) }, cursor, query.limit + 1);
  const page = rows.slice(0, query.limit).map(publicDelivery);
  const last = rows.length > query.limit ? rows[query.limit - 1] : undefined;
  return {
    items: await withActionLabels(db, page),
    nextCursor: last ? encodeCursor({ at: last.createdAt, id: last.id }) : null,
  };
}

/** Pending = accepted but not yet through the pipeline: an inbound event without a delivery row. */
async function listPending(db: Database, query: DeliveryQuery, cursor?: Cursor) {
  // Nothing is planned for a pending event yet: no Bloomreach event to match.
  if (query.remoteEvent) return { items: [], nextCursor: null };
  const { status: _, remoteEvent: __, cursor: ___, limit: ____, ...filter } = query;
  const rows = await selectPendingPage(db, filter, cursor, query.limit + 1);
  const items = rows.slice(0, query.limit).map((r) => ({
    id: r.id,
    eventId: r.id,
    customerId: r.customerId,
    action: r.action,
    direction: r.direction,
    status: "pending" as const,
    attempts: 0,
    lastError: null,
    nextAttemptAt: null,
    replayQueued: false,
    createdAt: r.receivedAt,
    updatedAt: r.receivedAt,
  }));
  const last = rows.length > query.limit ? rows[query.limit - 1] : undefined;
  return {
    items: await withActionLabels(db, items),
    nextCursor: last ? encodeCursor({ at: last.receivedAt, id: last.id }) : null,
  };
}

function publicDelivery(row: DeliveryRow) {
  const { commands: _, warnings, ...rest } = row;
  return {
    ...rest,
    warnings: warnings ? (JSON.parse(warnings) as string[]) : [],
    // Replayed and not yet through the pipeline again (its next log write replaces the note).
    replayQueued: row.status === "retrying" && (row.lastError ?? "").startsWith(REPLAY_NOTE),
  };
}

export async function getDelivery(db: Database, id: string) {
  const { delivery: row, attempts, inbound } = await selectDeliveryRecord(db, id);
  const event = inbound ? (JSON.parse(inbound.payload) as RelayEvent) : undefined;
  const log = readAttemptLog(row, attempts, row?.direction ?? (event ? directionOf(event) : undefined));
  if (!row && !event) throw new RelayError("not_found", `no delivery ${id}`);
  const [labelled] = await withActionLabels(db, [
    { action: row?.action ?? event!.action, eventId: row?.eventId ?? id },
  ]);
  return {
    ...(labelled?.actionLabel ? { actionLabel: labelled.actionLabel } : {}),
    ...(row
      ? { ...publicDelivery(row), commands: JSON.parse(row.commands) as unknown[] }
      : {
          id,
          eventId: id,
          customerId: event!.customerId,
          action: event!.action,
          direction: directionOf(event!),
          status: "pending",
          attempts: 0,
          commands: [],
          warnings: [] as string[],
        }),
    event,
    attemptLog: log.attempts,
    replays: log.replays,
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
  for (const payload of await selectInboundPayloads(db, ids)) {
    const event = readPayload(payload);
    if (event) events.push(event);
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
  await markDeliveriesRetrying(
    deps.db,
    events.map((e) => e.id),
    deps.now(),
    replay,
  );
  return events.length;
}

const requeue = async (deps: DeliveriesDeps, ids: string[], replay: boolean) =>
  requeueEvents(deps, await inboundPayloads(deps.db, ids), replay);

export async function replayDelivery(deps: DeliveriesDeps, id: string) {
  const status = await selectDeliveryStatus(deps.db, id);
  if (!status) throw new RelayError("not_found", `no delivery ${id}`);
  if (!REPLAYABLE_STATUSES.includes(status as ReplayableStatus))
    throw new RelayError("conflict", `only dead or outcome_unknown deliveries can be replayed; ${id} is ${status}`);
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
export async function replayDeliveries(deps: DeliveriesDeps, window: TimeWindow) {
  const ids = await selectDeadDeliveryIds(deps.db, window, REPLAY_PAGE);
  const replayed = await requeue(deps, ids, true);
  const remaining = await countDeadDeliveries(deps.db, window);
  return { replayed, remaining };
}

/** Deliveries parked while the connection was missing or refused, sent again once it works. */
export async function requeueParked(deps: DeliveriesDeps, limit = REPLAY_PAGE): Promise<number> {
  return requeue(deps, await selectPausedDeliveryIds(deps.db, limit), false);
}

/** Pages of lost hand-offs one sweep works through at most (the next sweep takes the rest). */
const STUCK_PAGES_PER_SWEEP = 4;
const UNREADABLE = "the stored event cannot be read back, so it cannot be resent";

/**
 * Recovers what the platform lost: accepted events that never got a delivery row, oldest first, and
 * retries long overdue. Each lost event gets a row (retrying, or dead when its stored copy cannot be
 * read), so it leaves the candidates and rows that cannot be resent never hide the ones that can.
 * The CustomerSync objects make a requeue of something still in flight harmless.
 */
export async function requeueStuck(deps: DeliveriesDeps, graceSeconds: number, limit = REPLAY_PAGE): Promise<number> {
  const cutoff = deps.now() - graceSeconds;
  let requeued = 0;
  for (let page = 0; page < STUCK_PAGES_PER_SWEEP; page++) {
    const rows = await selectLostInboundEvents(deps.db, cutoff, limit);
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
        ...(event ? { direction: directionOf(event) } : {}),
        status: event ? "retrying" : "dead",
        lastError: event ? null : UNREADABLE,
        createdAt: now,
        updatedAt: now,
        nextAttemptAt: event ? now : null,
      };
    });
    await insertDeliveryRowsIfAbsent(deps.db, logRows);
    requeued += await requeueEvents(deps, readable, false);
    if (rows.length < limit) break;
  }
  return requeued + (await requeue(deps, await selectOverdueRetryIds(deps.db, cutoff, limit), false));
}
