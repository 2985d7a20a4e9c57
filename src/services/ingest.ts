/**
 * Ingest: records each new event under its dedupe key and hands it durably to the queue before the
 * webhook answers (invariant 1). A redelivery hits the primary key and is reported as a duplicate.
 * If the hand-off fails the rows are removed again, so Antavo's retry is not mistaken for a
 * duplicate, and the caller answers 503.
 */
import { inArray } from "drizzle-orm";
import { chunk, rowsPerStatement, type Database } from "../db/client";
import { inboundEvents } from "../db/schema";
import type { RelayEvent } from "../domain/event";
import { RelayError } from "../lib/errors";
import { eventMessage, type QueueMessage } from "../queue/message";

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

export function messageSize(message: QueueMessage): number {
  return new TextEncoder().encode(JSON.stringify(message)).length;
}

/** Stores the events not seen before; returns them (first occurrence wins within one request). */
export async function recordInboundEvents(db: Database, events: RelayEvent[]): Promise<{ fresh: RelayEvent[]; duplicates: RelayEvent[] }> {
  const unique = new Map<string, RelayEvent>();
  for (const event of events) if (!unique.has(event.id)) unique.set(event.id, event);
  const rows = [...unique.values()].map((event) => ({
    id: event.id,
    action: event.action,
    customerId: event.customerId,
    payload: JSON.stringify(event),
    receivedAt: event.receivedAt,
  }));
  const inserts = chunk(rows, rowsPerStatement(5)).map((part) =>
    db.insert(inboundEvents).values(part).onConflictDoNothing().returning({ id: inboundEvents.id }),
  );
  const inserted = new Set<string>();
  if (inserts.length > 0) {
    const results = await db.batch(inserts as [(typeof inserts)[number], ...(typeof inserts)[number][]]);
    for (const result of results) for (const row of result) inserted.add(row.id);
  }
  const fresh: RelayEvent[] = [];
  const duplicates: RelayEvent[] = [];
  const taken = new Set<string>();
  for (const event of events) {
    if (inserted.has(event.id) && !taken.has(event.id)) {
      fresh.push(event);
      taken.add(event.id);
    } else {
      duplicates.push(event);
    }
  }
  return { fresh, duplicates };
}

export async function forgetInboundEvents(db: Database, ids: string[]): Promise<void> {
  for (const part of chunk(ids, 90)) await db.delete(inboundEvents).where(inArray(inboundEvents.id, part));
}

/** Sends messages in as few sendBatch calls as the size limits allow. */
export async function sendMessages(queue: Queue<QueueMessage>, messages: QueueMessage[]): Promise<void> {
  let batch: MessageSendRequest<QueueMessage>[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = messageSize(message);
    if (batch.length === 100 || (batch.length > 0 && bytes + size > MAX_SEND_BATCH_BYTES)) {
      await queue.sendBatch(batch);
      batch = [];
      bytes = 0;
    }
    batch.push({ body: message, contentType: "json" });
    bytes += size;
  }
  if (batch.length > 0) await queue.sendBatch(batch);
}

/** Rejects, before anything is stored, an event too large to travel as one queue message. */
export function assertQueueable(events: RelayEvent[]): void {
  const issues = events
    .map((event, index) => ({ index, size: messageSize(eventMessage(event)) }))
    .filter(({ size }) => size > MAX_MESSAGE_BYTES)
    .map(({ index, size }) => ({ path: events.length > 1 ? `events.${index}` : "$", message: `event is ${size} bytes; at most ${MAX_MESSAGE_BYTES} fit in one queue message` }));
  if (issues.length > 0) throw new RelayError("payload_too_large", "an event is too large", issues);
}

export async function ingestAsync(deps: IngestDeps, events: RelayEvent[]): Promise<IngestResult> {
  assertQueueable(events);
  const { fresh, duplicates } = await recordInboundEvents(deps.db, events);
  try {
    await sendMessages(deps.queue, fresh.map((event) => eventMessage(event)));
  } catch (error) {
    await forgetInboundEvents(
      deps.db,
      fresh.map((e) => e.id),
    ).catch(() => undefined);
    throw new RelayError("unavailable", `the events could not be handed to the queue: ${(error as Error).message}`);
  }
  return { accepted: fresh.map((e) => e.id), duplicates: duplicates.map((e) => e.id) };
}
