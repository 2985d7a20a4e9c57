/**
 * Drives date workflows in tests: a cron tick through the Worker's scheduled transport
 * (createScheduledController) and queue batches through the events consumer
 * (createMessageBatch/getQueueResult), with every queue send recorded. Under test the events queue
 * has no consumer, so a test runs what the previous step enqueued itself. Time is injected.
 */
import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  env,
  getQueueResult,
} from "cloudflare:test";
import { createDeps, type RelayDeps } from "../../src/composition";
import { runScheduled } from "../../src/cron/scheduled";
import { openDatabase } from "../../src/db/client";
import { mirrorRow, upsertCustomerStatement } from "../../src/db/customer-queries";
import type { DateScanMessage, EventMessage, QueueMessage } from "../../src/domain/queue-message";
import { consumeEvents } from "../../src/queue/consumer";
import { recordingQueue } from "./app";
import { EVENTS_QUEUE } from "./pipeline";

export type Overrides = Partial<RelayDeps> & { scanPageSize?: number; backfillPace?: number };

const seconds = (at: Date | number | string) => Math.floor(new Date(at).getTime() / 1000);

/**
 * One cron run scheduled for `at`; answers the scans it started. (The sweeper in the same run may
 * also requeue events it finds undelivered; those are left out.)
 */
export async function cronTick(at: string | number, overrides: Overrides = {}): Promise<DateScanMessage[]> {
  const recorder = recordingQueue(env.EVENTS_QUEUE as Queue<QueueMessage>);
  const controller = createScheduledController({ scheduledTime: new Date(at), cron: "* * * * *" });
  await runScheduled(controller, {
    ...createDeps(env),
    queue: recorder.queue,
    backfillQueue: recorder.queue,
    ...overrides,
  });
  return (recorder.sent as QueueMessage[]).filter(isScan);
}

let sequence = 0;

/** One batch through the events consumer with the real bindings and a recording queue. */
export async function consume(messages: QueueMessage[], overrides: Overrides = {}) {
  const recorder = recordingQueue(env.EVENTS_QUEUE as Queue<QueueMessage>);
  const batch = createMessageBatch<QueueMessage>(
    EVENTS_QUEUE,
    messages.map((body) => ({ id: `q-${++sequence}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await consumeEvents(batch as MessageBatch<unknown>, {
    ...createDeps(env),
    queue: recorder.queue,
    backfillQueue: recorder.queue,
    ...overrides,
  });
  const result = await getQueueResult(batch, ctx);
  return { sent: recorder.sent as QueueMessage[], acked: result.explicitAcks, retried: result.retryMessages };
}

const isScan = (m: QueueMessage): m is DateScanMessage => m.type === "date_scan";
const isEvent = (m: QueueMessage): m is EventMessage => m.type === "event";

/** Runs scan pages (and the pages they enqueue) to the end; answers the pages run and the events they sent. */
export async function runScans(messages: QueueMessage[], overrides: Overrides = {}) {
  let pending = messages.filter(isScan);
  const pages: DateScanMessage[] = [];
  const events: EventMessage[] = [];
  for (let round = 0; pending.length > 0; round++) {
    if (round > 100) throw new Error("runScans: the scan does not end");
    pages.push(...pending);
    const { sent, retried } = await consume(pending, overrides);
    if (retried.length > 0) throw new Error(`runScans: ${retried.length} scan page(s) failed`);
    pending = sent.filter(isScan);
    events.push(...sent.filter(isEvent));
  }
  return { pages, events };
}

/** Consumes everything (scan pages and events) until the queue would be empty. */
export async function drain(messages: QueueMessage[], overrides: Overrides = {}) {
  let pending = messages;
  const seen: QueueMessage[] = [];
  for (let round = 0; pending.length > 0; round++) {
    if (round > 100) throw new Error("drain: the queue does not empty");
    seen.push(...pending);
    const { sent, retried } = await consume(pending, overrides);
    if (retried.length > 0) throw new Error(`drain: ${retried.length} message(s) were retried`);
    pending = sent;
  }
  return seen;
}

/** Puts customers in the D1 mirror as the CustomerSync objects would. */
export async function seedMirror(
  customers: ({ id: string } & Record<string, unknown>)[],
  at: string | number = Date.now(),
) {
  const db = openDatabase(env.DB);
  for (const customer of customers) await upsertCustomerStatement(db, mirrorRow(customer.id, customer, seconds(at)));
}

export const unix = seconds;
