/**
 * Queue consumers. The events consumer validates each message, delivers the batch through the
 * shared pipeline and turns each outcome into ack or retry with the policy's delay. The dead-letter
 * consumer records whatever the platform gave up on, so nothing leaves without a trace.
 */

import { inArray } from "drizzle-orm";
import * as v from "valibot";
import { writeDeliveryLog } from "../db/delivery-queries";
import { deliveries } from "../db/schema";
import { retryDelaySeconds } from "../domain/retry-policy";
import type { DateRunDeps } from "../services/date-runs";
import { type DeliveryDeps, type DeliveryJob, type DeliveryReport, deliverEvents } from "../services/deliver";
import { consumeDateScans } from "./date-scans";
import { type DateScanMessage, type EventMessage, type QueueMessage, QueueMessageSchema } from "./message";

function parseMessages(batch: MessageBatch<unknown>) {
  const valid: { message: Message<unknown>; body: QueueMessage }[] = [];
  for (const message of batch.messages) {
    const parsed = v.safeParse(QueueMessageSchema, message.body);
    if (parsed.success) {
      valid.push({ message, body: parsed.output });
    } else {
      // A message no version of the relay could read: retrying cannot help.
      console.error(
        JSON.stringify({
          queue: batch.queue,
          messageId: message.id,
          message: "unreadable queue message dropped",
          issues: parsed.issues.map((i) => i.message),
        }),
      );
      message.ack();
    }
  }
  return valid;
}

/** Event messages go through the delivery pipeline; date-scan pages are handled on their own. */
function byType(parsed: { message: Message<unknown>; body: QueueMessage }[]) {
  const events: { message: Message<unknown>; body: EventMessage }[] = [];
  const scans: { message: Message<unknown>; body: DateScanMessage }[] = [];
  for (const { message, body } of parsed) {
    if (body.type === "date_scan") scans.push({ message, body });
    else events.push({ message, body });
  }
  return { events, scans };
}

export async function consumeEvents(batch: MessageBatch<unknown>, deps: DeliveryDeps & DateRunDeps): Promise<void> {
  const { events: messages, scans } = byType(parseMessages(batch));
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
    report = await deliverEvents(deps, [...jobs.values()]);
  } catch (error) {
    console.error(JSON.stringify({ queue: batch.queue, message: `delivery failed: ${(error as Error).message}` }));
    for (const { message } of messages) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    return;
  }
  for (const { message, body } of messages) {
    const outcome = report.outcomes.get(body.event.id);
    if (outcome?.status === "retry") message.retry({ delaySeconds: outcome.delaySeconds });
    // The log could not be written: try again soon; the CustomerSync objects already know what was sent.
    else if (!report.logged) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    else message.ack();
  }
}

export async function consumeDeadLetters(
  batch: MessageBatch<unknown>,
  deps: Pick<DeliveryDeps, "db" | "now">,
): Promise<void> {
  const { events: messages, scans } = byType(parseMessages(batch));
  for (const { message, body } of scans) {
    // A scan page the queue gave up on: its customers of that occurrence were not reached.
    console.error(
      JSON.stringify({
        workflowId: body.workflowId,
        occurrence: body.occurrence,
        cursor: body.cursor ?? null,
        message: `date scan page dead after ${message.attempts} attempts`,
      }),
    );
    message.ack();
  }
  const ids = messages.map(({ body }) => body.event.id);
  const settled = new Set(
    ids.length === 0
      ? []
      : (
          await deps.db
            .select({ id: deliveries.id, status: deliveries.status })
            .from(deliveries)
            .where(inArray(deliveries.id, ids))
        )
          .filter((row) => row.status === "delivered" || row.status === "dead")
          .map((row) => row.id),
  );
  const entries = messages
    .filter(({ body }) => !settled.has(body.event.id))
    .map(({ message, body }) => ({
      eventId: body.event.id,
      customerId: body.event.customerId,
      action: body.event.action,
      status: "dead" as const,
      commands: [],
      lastError: `the queue gave up after ${message.attempts} attempts`,
      attempts: [],
    }));
  await writeDeliveryLog(deps.db, entries, deps.now());
  for (const { message } of messages) message.ack();
}
