/**
 * Ingest: records each new event with its dedupe claim and hands it durably to the queue before the
 * webhook answers (invariant 1). A redelivery finds its key held and is reported as a duplicate, with
 * the id of the event that holds it. If the hand-off fails the records are removed again, so
 * Antavo's retry is not mistaken for a duplicate, and the caller answers 503.
 */
import type { Database } from "../db/client";
import { claimInboundRecords, forgetInboundRecords, type InboundRecord } from "../db/inbound-queries";
import type { RelayEvent } from "../domain/event";
import { idDedupeKey, type NormalisedEvent } from "../domain/normalise";
import { eventMessage, type QueueMessage } from "../domain/queue-message";
import { RelayError } from "../lib/errors";
import { groupCommit } from "../lib/group-commit";
import { errorMessage, logger, withLogScope } from "../lib/logger";
import { type DeliveryDeps, type DeliveryOutcome, deliverEvents } from "./deliver";
import { EVENT_ENVELOPE_BYTES, jsonBytes, MAX_MESSAGE_BYTES, sendMessages } from "./producer";

export interface IngestDeps {
  db: Database;
  queue: Queue<QueueMessage>;
}

export interface IngestResult {
  /** One id per event of the request, in order: a duplicate answers the id of the event it repeats. */
  ids: string[];
  accepted: NormalisedEvent[];
  duplicates: NormalisedEvent[];
}

/** Events the relay made itself (date runs, tests) are keyed by their id for the retention. */
export const withIdClaims = (events: RelayEvent[]): NormalisedEvent[] =>
  events.map((event) => ({ event, dedupe: { key: idDedupeKey(event.id), expiresAt: null } }));

// The hot path serialises each event once: the size check and the D1 record share the text.
const payloads = new WeakMap<RelayEvent, string>();
function payloadOf(event: RelayEvent): string {
  let payload = payloads.get(event);
  if (payload === undefined) {
    payload = JSON.stringify(event);
    payloads.set(event, payload);
  }
  return payload;
}

/** The queue message's size, from the event's JSON already made for its D1 record. */
const queuedSize = (event: RelayEvent) => EVENT_ENVELOPE_BYTES + jsonBytes(payloadOf(event));

const toRecord = ({ event, dedupe }: NormalisedEvent): InboundRecord => ({
  id: event.id,
  action: event.action,
  customerId: event.customerId,
  payload: payloadOf(event),
  receivedAt: event.receivedAt,
  ...(dedupe ? { dedupe } : {}),
});

/**
 * Records the events of several requests in one D1 batch and splits each request into what it
 * accepted and what repeats an earlier event. A key carried twice (in one request, or by two
 * requests of the group) belongs to the first; the other sees a duplicate, exactly as it would one
 * round trip later.
 */
async function claimRequests(db: Database, requests: NormalisedEvent[][]): Promise<IngestResult[]> {
  const { inserted, holders } = await claimInboundRecords(db, requests.flat().map(toRecord));
  return requests.map((items) => {
    const result: IngestResult = { ids: [], accepted: [], duplicates: [] };
    for (const item of items) {
      const { event, dedupe } = item;
      // The first occurrence of an id takes the insert; a repeat in the same batch is a duplicate.
      if (inserted.delete(event.id)) {
        result.accepted.push(item);
        result.ids.push(event.id);
      } else {
        result.duplicates.push(item);
        result.ids.push((dedupe && holders.get(dedupe.key)) ?? event.id);
      }
    }
    return result;
  });
}

// Concurrent webhooks in one isolate share their round trips (group commit): one D1 batch, and in
// async mode one sendBatch, per group instead of per request. A group that fails is retried member
// by member, so one request's failure is never its neighbours' (invariant 9).
const MAX_REQUESTS_PER_GROUP = 50;
type Flush = (items: NormalisedEvent[]) => Promise<IngestResult>;
const recorders = new WeakMap<Database, Flush>();
const handOffs = new WeakMap<Queue<QueueMessage>, WeakMap<Database, Flush>>();

function memo<K extends object, V>(cache: WeakMap<K, V>, key: K, build: () => V): V {
  let value = cache.get(key);
  if (!value) {
    value = build();
    cache.set(key, value);
  }
  return value;
}

/** Stores the events not seen before (first occurrence wins) without handing them off. */
export function recordInboundEvents(db: Database, items: NormalisedEvent[]): Promise<IngestResult> {
  const record = memo(recorders, db, () =>
    groupCommit((requests) => claimRequests(db, requests), MAX_REQUESTS_PER_GROUP),
  );
  return record(items);
}

/** Claims and hands off a group; if the send fails the group's records are forgotten and it fails. */
function handOffFor(deps: IngestDeps): Flush {
  const byDb = memo(handOffs, deps.queue, () => new WeakMap<Database, Flush>());
  return memo(byDb, deps.db, () =>
    groupCommit(
      (requests: NormalisedEvent[][]) =>
        // The flush runs in the request that started it, for every request of the group: its
        // lines name the group, not one request's id.
        withLogScope({ requestId: undefined, groupRequests: requests.length }, async () => {
          const results = await claimRequests(deps.db, requests);
          await handOff(
            deps,
            results.flatMap((r) => r.accepted),
          );
          return results;
        }),
      MAX_REQUESTS_PER_GROUP,
    ),
  );
}

/** Rejects, before anything is stored, an event too large to travel as one queue message. */
export function assertQueueable(events: RelayEvent[]): void {
  const issues = events
    .map((event, index) => ({ index, size: queuedSize(event) }))
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
  items: NormalisedEvent[],
  delaySeconds?: (id: string) => number | undefined,
): Promise<void> {
  if (items.length === 0) return;
  try {
    await sendMessages(
      deps.queue,
      items.map(({ event }) => eventMessage(event)),
      delaySeconds && ((message) => delaySeconds(message.event.id)),
    );
  } catch (error) {
    // If this fails too, Antavo's retry meets a held key and is answered as a duplicate; the
    // housekeeping sweep re-queues a recorded event that never got a delivery row, so it still goes.
    await forgetInboundRecords(deps.db, items.map(toRecord)).catch((forgetError) =>
      logger.error("forgetting the events after a failed hand-off failed", {
        events: items.length,
        error: errorMessage(forgetError),
      }),
    );
    throw new RelayError("unavailable", `the events could not be handed to the queue: ${(error as Error).message}`);
  }
}

export async function ingestAsync(deps: IngestDeps, items: NormalisedEvent[]): Promise<IngestResult> {
  assertQueueable(items.map((i) => i.event));
  return handOffFor(deps)(items);
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
export async function ingestSync(deps: IngestDeps & DeliveryDeps, items: NormalisedEvent[]): Promise<SyncResult> {
  assertQueueable(items.map((i) => i.event));
  const recorded = await recordInboundEvents(deps.db, items);
  const fresh = recorded.accepted;
  let outcomes: Map<string, DeliveryOutcome> = new Map();
  let fallback = fresh;
  try {
    const report = await deliverEvents(
      deps,
      fresh.map(({ event }) => ({ event, attempt: 1 })),
    );
    outcomes = report.outcomes;
    // Without a log row the event is not finished as far as the admin can see: let the queue finish it.
    fallback = report.logged ? fresh.filter(({ event }) => outcomes.get(event.id)?.status === "retry") : fresh;
  } catch (error) {
    logger.error("sync delivery failed, falling back to the queue", { error: errorMessage(error) });
  }
  await handOff(deps, fallback, (id) => {
    const outcome = outcomes.get(id);
    return outcome?.status === "retry" ? outcome.delaySeconds : undefined;
  });
  const queued = new Set(fallback.map(({ event }) => event.id));
  const accepted = new Set(fresh);
  return {
    ...recorded,
    queued: [...queued],
    results: items.map((item, index) => {
      const id = recorded.ids[index]!;
      if (!accepted.has(item)) return { id, status: "duplicate" };
      const outcome = outcomes.get(id);
      if (!outcome || queued.has(id))
        return { id, status: "retry", ...(outcome && outcome.status !== "delivered" ? { error: outcome.error } : {}) };
      return { id, status: outcome.status, ...(outcome.status !== "delivered" ? { error: outcome.error } : {}) };
    }),
  };
}
