/**
 * Queue consumers. The events consumer checks each message on its own, delivers the batch through
 * the shared pipeline and turns each outcome into ack or retry with the policy's delay. The
 * dead-letter consumer records whatever the platform gave up on, so nothing leaves without a trace.
 *
 * Failures are one message's (invariant 9): a message no relay could read, or one that breaks the
 * shape limits, is dead-lettered with its reason at once; if the pipeline throws for the batch, each
 * event is delivered alone so the one that throws is the only one retried.
 */
import * as v from "valibot";
import { readDeliveryStates, writeDeliveryLog } from "../db/delivery-queries";
import { type Direction, directionOf } from "../domain/event";
import {
  type BackfillPageMessage,
  type DateScanMessage,
  type EventMessage,
  type QueueMessage,
  QueueMessageSchema,
} from "../domain/queue-message";
import { retryDelaySeconds } from "../domain/retry-policy";
import { forEachConcurrently } from "../lib/concurrency";
import { inputIssues } from "../lib/input-limits";
import { errorMessage, logger } from "../lib/logger";
import type { BackfillDeps } from "../services/backfill";
import type { DateRunDeps } from "../services/date-runs";
import { type DeliveryDeps, type DeliveryJob, type DeliveryReport, deliverEvents } from "../services/deliver";
import { consumeBackfillPages, giveUpBackfillPages } from "./backfill-pages";
import { consumeDateScans } from "./date-scans";

type Parsed = { message: Message<unknown>; body: QueueMessage };
type Refused = {
  message: Message<unknown>;
  reason: string;
  event?: { id: string; customerId: string; action: string; direction: Direction };
};

const eventOf = (body: unknown) => (body as { event?: Record<string, unknown> } | null)?.event;

/** The id, customer and action of an unreadable event message, when those at least are readable. */
function envelopeOf(body: unknown): Refused["event"] {
  const event = eventOf(body);
  const [id, customerId, action] = [event?.id, event?.customerId, event?.action];
  return typeof id === "string" && typeof customerId === "string" && typeof action === "string"
    ? { id, customerId, action, direction: event?.bloomreach ? "to_antavo" : "to_bloomreach" }
    : undefined;
}

function parseMessages(batch: MessageBatch<unknown>): { valid: Parsed[]; refused: Refused[] } {
  const valid: Parsed[] = [];
  const refused: Refused[] = [];
  for (const message of batch.messages) {
    // The shape limits first: they are iterative, and everything after them may recurse.
    // An event message is checked as the webhook checked the event, so paths and depth read the same.
    const issues = inputIssues(eventOf(message.body) ?? message.body);
    const parsed = issues.length === 0 ? v.safeParse(QueueMessageSchema, message.body) : undefined;
    if (parsed?.success) {
      valid.push({ message, body: parsed.output });
      continue;
    }
    const reason = issues.length
      ? `the queued event breaks the input limits: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`
      : `the queued message is not readable: ${parsed!.issues.map((i) => i.message).join("; ")}`;
    refused.push({ message, reason, event: envelopeOf(message.body) });
  }
  return { valid, refused };
}

/** A message no version of the relay could deliver: dead now, with its reason; retrying cannot help. */
async function deadLetterRefused(
  batch: MessageBatch<unknown>,
  refused: Refused[],
  deps: Pick<DeliveryDeps, "db" | "now">,
) {
  const entries = refused.flatMap(({ event, reason }) =>
    event
      ? [
          {
            eventId: event.id,
            customerId: event.customerId,
            action: event.action,
            direction: event.direction,
            status: "dead" as const,
            commands: [],
            lastError: reason,
            attempts: [],
          },
        ]
      : [],
  );
  for (const { message, reason, event } of refused) {
    if (!event) logger.error(reason, { queue: batch.queue, messageId: message.id });
  }
  try {
    await writeDeliveryLog(deps.db, entries, deps.now());
    for (const { message } of refused) message.ack();
  } catch (error) {
    logger.error("dead-letter log failed", { queue: batch.queue, error: errorMessage(error) });
    for (const { message } of refused) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}

/** Event messages go through the delivery pipeline; date-scan and backfill pages are handled on their own. */
function byType(parsed: Parsed[]) {
  const events: { message: Message<unknown>; body: EventMessage }[] = [];
  const scans: { message: Message<unknown>; body: DateScanMessage }[] = [];
  const backfills: { message: Message<unknown>; body: BackfillPageMessage }[] = [];
  for (const { message, body } of parsed) {
    if (body.type === "date_scan") scans.push({ message, body });
    else if (body.type === "backfill_page") backfills.push({ message, body });
    else events.push({ message, body });
  }
  return { events, scans, backfills };
}

const ISOLATED_CONCURRENCY = 4;

/**
 * Delivers the batch; if the pipeline throws for it as a whole, delivers each event alone, so an
 * event whose delivery throws is retried by itself and its neighbours finish in this pass.
 */
async function deliverIsolated(deps: DeliveryDeps, jobs: DeliveryJob[]): Promise<DeliveryReport> {
  try {
    return await deliverEvents(deps, jobs);
  } catch (error) {
    if (jobs.length === 1) throw error;
    logger.error("batch delivery failed, delivering one by one", { error: errorMessage(error) });
  }
  const report: DeliveryReport = { outcomes: new Map(), logged: true };
  await forEachConcurrently(jobs, ISOLATED_CONCURRENCY, async (job) => {
    try {
      const own = await deliverEvents(deps, [job]);
      for (const [id, outcome] of own.outcomes) report.outcomes.set(id, outcome);
      report.logged &&= own.logged;
    } catch (error) {
      const reason = `delivery failed: ${(error as Error).message}`;
      logger.error(reason, { eventId: job.event.id });
      report.outcomes.set(job.event.id, {
        status: "retry",
        error: reason,
        delaySeconds: retryDelaySeconds(job.attempt),
      });
    }
  });
  return report;
}

/** The events queue and the backfill queue: each message is handled by its type, whichever queue it came on. */
export async function consumeEvents(
  batch: MessageBatch<unknown>,
  deps: DeliveryDeps & DateRunDeps & Pick<BackfillDeps, "backfillQueue">,
): Promise<void> {
  const { valid, refused } = parseMessages(batch);
  if (refused.length > 0) await deadLetterRefused(batch, refused, deps);
  const { events: messages, scans, backfills } = byType(valid);
  // A backfill page runs beside the batch's live events, never in front of them.
  await Promise.all([consumeBackfillPages(backfills, deps), consumeLiveEvents(messages, scans, batch, deps)]);
}

async function consumeLiveEvents(
  messages: { message: Message<unknown>; body: EventMessage }[],
  scans: { message: Message<unknown>; body: DateScanMessage }[],
  batch: MessageBatch<unknown>,
  deps: DeliveryDeps & DateRunDeps,
): Promise<void> {
  await consumeDateScans(scans, deps);
  // At-least-once delivery can put one event in a batch twice: deliver it once, answer both.
  const jobs = new Map<string, DeliveryJob>();
  for (const { message, body } of messages) {
    const known = jobs.get(body.event.id);
    jobs.set(body.event.id, {
      event: body.event,
      attempt: Math.max(message.attempts, known?.attempt ?? 0),
      replay: Boolean(body.replay || known?.replay),
    });
  }
  if (jobs.size === 0) return;

  let report: DeliveryReport;
  try {
    report = await deliverIsolated(deps, [...jobs.values()]);
  } catch (error) {
    logger.error("delivery failed", { queue: batch.queue, error: errorMessage(error) });
    for (const { message } of messages) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    return;
  }
  for (const { message, body } of messages) {
    const outcome = report.outcomes.get(body.event.id);
    if (outcome?.status === "retry") message.retry({ delaySeconds: outcome.delaySeconds });
    // The log could not be written: try again soon. The objects were told directly what was sent;
    // an object that could not take it either is the one case where the retry sends again.
    else if (!report.logged) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    else message.ack();
  }
}

export async function consumeDeadLetters(
  batch: MessageBatch<unknown>,
  deps: Pick<DeliveryDeps, "db" | "now">,
): Promise<void> {
  const { valid, refused } = parseMessages(batch);
  if (refused.length > 0) await deadLetterRefused(batch, refused, deps);
  const { events: messages, scans, backfills } = byType(valid);
  await giveUpBackfillPages(backfills, deps);
  for (const { message, body } of scans) {
    // A scan page the queue gave up on: its customers of that occurrence were not reached.
    logger.error(`date scan page dead after ${message.attempts} attempts`, {
      workflowId: body.workflowId,
      occurrence: body.occurrence,
      cursor: body.cursor ?? null,
    });
    message.ack();
  }
  if (messages.length === 0) return;
  // The log already says why the last attempt failed: keep that reason beside the queue's verdict.
  const states = await readDeliveryStates(
    deps.db,
    messages.map(({ body }) => body.event.id),
  );
  const entries = messages
    .filter(({ body }) => !["delivered", "dead"].includes(states.get(body.event.id)?.status ?? ""))
    .map(({ message, body }) => {
      const last = states.get(body.event.id)?.lastError;
      return {
        eventId: body.event.id,
        customerId: body.event.customerId,
        action: body.event.action,
        direction: directionOf(body.event),
        status: "dead" as const,
        commands: [],
        lastError: `the queue gave up after ${message.attempts} attempts${last ? `: ${last}` : ""}`,
        attempts: [],
      };
    });
  await writeDeliveryLog(deps.db, entries, deps.now());
  for (const { message } of messages) message.ack();
}
