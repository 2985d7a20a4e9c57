/**
 * Ingest: records each new event under its dedupe key and hands it durably to the queue before the
 * webhook answers (invariant 1). A redelivery hits the primary key and is reported as a duplicate.
 * If the hand-off fails the rows are removed again, so Antavo's retry is not mistaken for a
 * duplicate, and the caller answers 503.
 */
import { inArray } from "drizzle-orm";
import { chunk, type Database, rowsPerStatement } from "../db/client";
import { inboundEvents } from "../db/schema";
import type { RelayEvent } from "../domain/event";
import { RelayError } from "../lib/errors";
import { groupCommit } from "../lib/group-commit";
import { type EventMessage, eventMessage, type QueueMessage } from "../queue/message";
import { type DeliveryDeps, type DeliveryOutcome, deliverEvents } from "./deliver";

export interface IngestDeps {
  db: Database;
  queue: Queue<QueueMessage>;
}

export interface IngestResult {
  accepted: string[];
  duplicates: string[];
}

/** Cloudflare Queues: 128 KB a message, 256 KB and 100 messages a sendBatch. Leave headroom. */
const MAX_MESSAGE_BYTES = 120_000;
const MAX_SEND_BATCH_BYTES = 240_000;

export function messageSize(message: EventMessage): number {
  const text = JSON.stringify(message);
  // Most events are ASCII, whose UTF-8 size is its length: no need to encode them to count.
  return /^[\x00-\x7f]*$/.test(text) ? text.length : new TextEncoder().encode(text).length;
}

type InboundRow = typeof inboundEvents.$inferInsert;

/**
 * Inserts the events of several requests in one D1 batch and answers, per request, the ids it
 * claimed. An id carried by two requests of the same batch belongs to the first; the other sees a
 * duplicate, exactly as it would one round trip later.
 */
async function claimInbound(db: Database, requests: RelayEvent[][]): Promise<Set<string>[]> {
  const owner = new Map<string, number>();
  const rows: InboundRow[] = [];
  requests.forEach((events, index) => {
    for (const event of events) {
      if (owner.has(event.id)) continue;
      owner.set(event.id, index);
      rows.push({
        id: event.id,
        action: event.action,
        customerId: event.customerId,
        payload: JSON.stringify(event),
        receivedAt: event.receivedAt,
      });
    }
  });
  const inserts = chunk(rows, rowsPerStatement(5)).map((part) =>
    db.insert(inboundEvents).values(part).onConflictDoNothing().returning({ id: inboundEvents.id }),
  );
  const inserted = new Set<string>();
  if (inserts.length > 0) {
    const results = await db.batch(inserts as [(typeof inserts)[number], ...(typeof inserts)[number][]]);
    for (const result of results) for (const row of result) inserted.add(row.id);
  }
  return requests.map(
    (events, index) => new Set(events.filter((e) => inserted.has(e.id) && owner.get(e.id) === index).map((e) => e.id)),
  );
}

/** Splits a request's events by what it claimed (the first occurrence of a claimed id is fresh). */
function splitClaimed(events: RelayEvent[], claimed: Set<string>) {
  const fresh: RelayEvent[] = [];
  const duplicates: RelayEvent[] = [];
  const taken = new Set<string>();
  for (const event of events) {
    if (claimed.has(event.id) && !taken.has(event.id)) {
      fresh.push(event);
      taken.add(event.id);
    } else {
      duplicates.push(event);
    }
  }
  return { fresh, duplicates };
}

// Concurrent webhooks in one isolate share their round trips (group commit): one D1 insert, and in
// async mode one sendBatch, per group instead of per request.
const MAX_REQUESTS_PER_GROUP = 50;
const claimers = new WeakMap<Database, (events: RelayEvent[]) => Promise<Set<string>>>();
const handOffs = new WeakMap<Queue<QueueMessage>, WeakMap<Database, (events: RelayEvent[]) => Promise<Set<string>>>>();

function memo<K extends object, V>(cache: WeakMap<K, V>, key: K, build: () => V): V {
  let value = cache.get(key);
  if (!value) {
    value = build();
    cache.set(key, value);
  }
  return value;
}

/** Stores the events not seen before; returns them (first occurrence wins within one request). */
export async function recordInboundEvents(
  db: Database,
  events: RelayEvent[],
): Promise<{ fresh: RelayEvent[]; duplicates: RelayEvent[] }> {
  const claim = memo(claimers, db, () =>
    groupCommit((requests: RelayEvent[][]) => claimInbound(db, requests), MAX_REQUESTS_PER_GROUP),
  );
  return splitClaimed(events, await claim(events));
}

/** Claims and hands off a group; if the send fails the group's rows are forgotten and all get 503. */
function handOffFor(deps: IngestDeps) {
  const byDb = memo(handOffs, deps.queue, () => new WeakMap());
  return memo(byDb, deps.db, () =>
    groupCommit(async (requests: RelayEvent[][]) => {
      const claimed = await claimInbound(deps.db, requests);
      const fresh = requests.flatMap((events, i) => splitClaimed(events, claimed[i]!).fresh);
      await handOff(deps, fresh);
      return claimed;
    }, MAX_REQUESTS_PER_GROUP),
  );
}

export async function forgetInboundEvents(db: Database, ids: string[]): Promise<void> {
  for (const part of chunk(ids, 90)) await db.delete(inboundEvents).where(inArray(inboundEvents.id, part));
}

/** Sends messages in as few sendBatch calls as the size limits allow; a delay postpones one message. */
export async function sendMessages(
  queue: Queue<QueueMessage>,
  messages: EventMessage[],
  delaySeconds?: (message: EventMessage) => number | undefined,
): Promise<void> {
  if (messages.length === 1) {
    // The common webhook: one event, already known to fit (assertQueueable).
    const delay = delaySeconds?.(messages[0]!);
    await queue.send(messages[0]!, { contentType: "json", ...(delay ? { delaySeconds: delay } : {}) });
    return;
  }
  let batch: MessageSendRequest<EventMessage>[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = messageSize(message);
    const delay = delaySeconds?.(message);
    if (batch.length === 100 || (batch.length > 0 && bytes + size > MAX_SEND_BATCH_BYTES)) {
      await queue.sendBatch(batch);
      batch = [];
      bytes = 0;
    }
    batch.push({ body: message, contentType: "json", ...(delay ? { delaySeconds: delay } : {}) });
    bytes += size;
  }
  if (batch.length > 0) await queue.sendBatch(batch);
}

/** Rejects, before anything is stored, an event too large to travel as one queue message. */
export function assertQueueable(events: RelayEvent[]): void {
  const issues = events
    .map((event, index) => ({ index, size: messageSize(eventMessage(event)) }))
    .filter(({ size }) => size > MAX_MESSAGE_BYTES)
    .map(({ index, size }) => ({
      path: events.length > 1 ? `events.${index}` : "$",
      message: `event is ${size} bytes; at most ${MAX_MESSAGE_BYTES} fit in one queue message`,
    }));
  if (issues.length > 0) throw new RelayError("payload_too_large", "an event is too large", issues);
}

/** The durable hand-off: on failure the events are forgotten again and the caller answers 503. */
async function handOff(
  deps: IngestDeps,
  events: RelayEvent[],
  delaySeconds?: (id: string) => number | undefined,
): Promise<void> {
  try {
    await sendMessages(
      deps.queue,
      events.map((event) => eventMessage(event)),
      delaySeconds && ((message) => delaySeconds(message.event.id)),
    );
  } catch (error) {
    await forgetInboundEvents(
      deps.db,
      events.map((e) => e.id),
    ).catch(() => undefined);
    throw new RelayError("unavailable", `the events could not be handed to the queue: ${(error as Error).message}`);
  }
}

export async function ingestAsync(deps: IngestDeps, events: RelayEvent[]): Promise<IngestResult> {
  assertQueueable(events);
  const { fresh, duplicates } = splitClaimed(events, await handOffFor(deps)(events));
  return { accepted: fresh.map((e) => e.id), duplicates: duplicates.map((e) => e.id) };
}

export interface SyncResult extends IngestResult {
  /** Events that did not finish now and were handed to the queue (202). */
  queued: string[];
  results: { id: string; status: DeliveryOutcome["status"] | "duplicate"; error?: string }[];
}

/**
 * Sync mode: deliver before answering, through the same pipeline as the consumer. Whatever did not
 * finish (a transient failure, or the pipeline itself failing) falls back to the queue.
 */
export async function ingestSync(deps: IngestDeps & DeliveryDeps, events: RelayEvent[]): Promise<SyncResult> {
  assertQueueable(events);
  const { fresh, duplicates } = await recordInboundEvents(deps.db, events);
  let outcomes: Map<string, DeliveryOutcome> = new Map();
  let fallback = fresh;
  try {
    const report = await deliverEvents(
      deps,
      fresh.map((event) => ({ event, attempt: 1 })),
    );
    outcomes = report.outcomes;
    // Without a log row the event is not finished as far as the admin can see: let the queue finish it.
    fallback = report.logged ? fresh.filter((e) => outcomes.get(e.id)?.status === "retry") : fresh;
  } catch (error) {
    console.error(
      JSON.stringify({ message: `sync delivery failed, falling back to the queue: ${(error as Error).message}` }),
    );
  }
  await handOff(deps, fallback, (id) => {
    const outcome = outcomes.get(id);
    return outcome?.status === "retry" ? outcome.delaySeconds : undefined;
  });
  const queued = new Set(fallback.map((e) => e.id));
  const duplicateIds = new Set(duplicates.map((e) => e.id));
  return {
    accepted: fresh.map((e) => e.id),
    duplicates: duplicates.map((e) => e.id),
    queued: [...queued],
    results: events.map((event) => {
      if (duplicateIds.has(event.id) && !fresh.includes(event)) return { id: event.id, status: "duplicate" };
      const outcome = outcomes.get(event.id);
      if (!outcome || queued.has(event.id))
        return {
          id: event.id,
          status: "retry",
          ...(outcome && outcome.status !== "delivered" ? { error: outcome.error } : {}),
        };
      return {
        id: event.id,
        status: outcome.status,
        ...(outcome.status !== "delivered" ? { error: outcome.error } : {}),
      };
    }),
  };
}
