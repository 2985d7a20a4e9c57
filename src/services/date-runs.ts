/**
 * "On a date" workflows (DESIGN 2: cron -> date workflows -> customers from the D1 mirror -> same
 * pipeline). A cron tick starts one scan per due (workflow, occurrence); the scan then travels as
 * queue messages, one page of customers each, so a million members is many short consumer runs and
 * never one that hits a time, memory or query limit. Each page turns the matching customers into
 * synthetic events that the ordinary pipeline delivers (the CustomerSync object runs just that
 * workflow for them, see domain/plan-event.ts).
 *
 * Idempotency, because cron and queues both deliver at least once:
 * - the tick claims (workflow, occurrence) with a marker row in workflow_runs, so a cron firing
 *   twice or late starts the scan once;
 * - a page records its events in inbound_events first and its runs in workflow_runs second, and
 *   sends only the customers whose run row is new. A page retried after its runs were recorded sends
 *   nothing again; if it died before sending, the sweeper finds the inbound events without a
 *   delivery and requeues them (services/housekeeping.ts). The event id is derived from (workflow,
 *   customer, occurrence), so every copy is the same event to the CustomerSync object.
 */
import * as v from "valibot";
import type { Database } from "../db/client";
import {
  claimScan,
  type MirrorRow,
  markWorkflowRun,
  pruneRuns,
  readCustomerPage,
  recordRuns,
  releaseScan,
} from "../db/date-run-queries";
import { listActiveWorkflows, readWorkflowRow, toStoredWorkflow } from "../db/workflow-queries";
import { JsonObjectSchema, type RelayEvent } from "../domain/event";
import { type DateScanMessage, type EventMessage, eventMessage, type QueueMessage } from "../domain/queue-message";
import { birthdayIndexKeys } from "../domain/workflow/birthday-index";
import { addDays, formatDate, parseDateOnly } from "../domain/workflow/calendar";
import { isInWindow, matchDateWorkflow, type StoredWorkflow } from "../domain/workflow/engine";
import { dueOccurrence } from "../domain/workflow/schedule";
import { errorMessage, logger } from "../lib/logger";
import { recordInboundEvents, withIdClaims } from "./ingest";
import { messageSize, sendMessages } from "./producer";

export interface DateRunDeps {
  db: Database;
  queue: Queue<QueueMessage>;
  /** Unix seconds. */
  now: () => number;
  /** Customers per scan page (default DEFAULT_SCAN_PAGE); a scan keeps the size it started with. */
  scanPageSize?: number;
}

/**
 * 500 customers a page: two D1 batches of about 25 statements each and five sendBatch calls, far
 * from the per-invocation limits, and 2,000 pages for a million customers.
 */
export const DEFAULT_SCAN_PAGE = 500;
/** Runs are kept a week: long enough for a page's queue retries, short enough to keep the table small. */
const RUN_RETENTION_DAYS = 7;
/** A snapshot this large would not fit a queue message; the CustomerSync object has its own copy. */
const MAX_SNAPSHOT_BYTES = 100_000;

export const dateRunEventId = (workflowId: string, customerId: string, occurrence: string) =>
  `date:${workflowId}:${customerId}:${occurrence}`;

/** The action every date-run event carries; the delivery log shows the workflow's name instead. */
export const DATE_RUN_ACTION = "workflow_date_run";

/** The workflow of a date-run event id (workflow ids are `wf_…`, never with a colon). */
export function dateRunWorkflowId(eventId: string): string | undefined {
  const match = /^date:([^:]+):/.exec(eventId);
  return match?.[1];
}

export interface StartedScan {
  workflowId: string;
  occurrence: string;
}

/** The cron tick: starts the scan of every active date workflow whose occurrence is due now. */
export async function startDateRuns(deps: DateRunDeps): Promise<StartedScan[]> {
  const at = deps.now();
  const started: StartedScan[] = [];
  for (const workflow of await listActiveWorkflows(deps.db)) {
    const { trigger } = workflow.document;
    if (trigger.type !== "date" || !isInWindow(workflow.document, at)) continue;
    const occurrence = dueOccurrence(trigger, at);
    if (!occurrence || !(await claimScan(deps.db, workflow.id, occurrence, at))) continue;
    const message: DateScanMessage = {
      type: "date_scan",
      workflowId: workflow.id,
      occurrence,
      at,
      ...(deps.scanPageSize ? { pageSize: deps.scanPageSize } : {}),
    };
    try {
      await deps.queue.send(message, { contentType: "json" });
    } catch (error) {
      await releaseScan(deps.db, workflow.id, occurrence).catch(() => undefined);
      throw error;
    }
    await markWorkflowRun(deps.db, workflow.id, at);
    started.push({ workflowId: workflow.id, occurrence });
    await pruneOldRuns(deps.db, workflow.id, occurrence);
  }
  return started;
}

async function pruneOldRuns(db: Database, workflowId: string, occurrence: string) {
  const day = parseDateOnly(occurrence);
  if (!day) return;
  try {
    await pruneRuns(db, workflowId, formatDate(addDays(day, -RUN_RETENTION_DAYS)));
  } catch (error) {
    // Housekeeping only: the next occurrence tries again.
    logger.error(`pruning workflow runs failed: ${errorMessage(error)}`, { workflowId, occurrence });
  }
}

export interface ScanPageReport {
  read: number;
  matched: number;
  sent: number;
  /** Set when another page follows. */
  next?: DateScanMessage["cursor"];
  /** Set when the scan stopped early (the workflow was deleted, deactivated or changed). */
  stopped?: string;
}

function snapshotOf(row: MirrorRow): Record<string, unknown> | undefined {
  try {
    const parsed = v.safeParse(JsonObjectSchema, JSON.parse(row.snapshot));
    return parsed.success ? { ...parsed.output, id: row.id } : undefined;
  } catch {
    return undefined;
  }
}

async function scannedWorkflow(db: Database, id: string): Promise<StoredWorkflow | string> {
  const row = await readWorkflowRow(db, id);
  if (!row) return "the workflow was deleted";
  const workflow = toStoredWorkflow(row);
  if (!workflow) return "the stored workflow no longer validates";
  if (!workflow.active) return "the workflow was deactivated";
  if (workflow.document.trigger.type !== "date") return "the workflow is no longer date-triggered";
  return workflow;
}

/** One page of a scan: matching customers become synthetic events, then the next page is queued. */
export async function scanDatePage(deps: DateRunDeps, message: DateScanMessage): Promise<ScanPageReport> {
  const workflow = await scannedWorkflow(deps.db, message.workflowId);
  if (typeof workflow === "string") return { read: 0, matched: 0, sent: 0, stopped: workflow };

  const { at, occurrence } = message;
  const pageSize = message.pageSize ?? DEFAULT_SCAN_PAGE;
  const monthDays = birthdayIndexKeys(workflow.document.filters, at);
  const page = await readCustomerPage(deps.db, {
    limit: pageSize,
    ...(message.cursor ? { cursor: message.cursor } : {}),
    ...(monthDays ? { monthDays } : {}),
  });

  const receivedAt = deps.now();
  const events: RelayEvent[] = [];
  for (const row of page) {
    const customer = snapshotOf(row);
    // Filters run at the tick's time, the same instant on every page and every retry.
    if (!customer || !matchDateWorkflow(workflow, customer, at)) continue;
    const event: RelayEvent = {
      id: dateRunEventId(workflow.id, row.id, occurrence),
      action: DATE_RUN_ACTION,
      customerId: row.id,
      customer,
      data: { workflow_id: workflow.id, occurrence },
      createdAt: at,
      receivedAt,
      dateRun: { workflowId: workflow.id, occurrence },
    };
    if (messageSize(eventMessage(event)) > MAX_SNAPSHOT_BYTES) delete event.customer;
    events.push(event);
  }

  let sent = 0;
  if (events.length > 0) {
    await recordInboundEvents(deps.db, withIdClaims(events));
    const fresh = await recordRuns(
      deps.db,
      workflow.id,
      occurrence,
      events.map((e) => e.customerId),
      receivedAt,
    );
    const messages: EventMessage[] = events.filter((e) => fresh.has(e.customerId)).map((e) => eventMessage(e));
    await sendMessages(deps.queue, messages);
    sent = messages.length;
  }

  const last = page[page.length - 1];
  if (page.length < pageSize || !last) return { read: page.length, matched: events.length, sent };
  const next = { id: last.id, ...(monthDays && last.birthMonthDay ? { monthDay: last.birthMonthDay } : {}) };
  await deps.queue.send({ ...message, cursor: next }, { contentType: "json" });
  return { read: page.length, matched: events.length, sent, next };
}
