/**
 * Backfill (DESIGN 4.5): every mirrored customer's mapped fields to Bloomreach, for members who were
 * there before the relay. A job travels as queue messages, one keyset page of the mirror each (like
 * the date runs), and each page goes through the ordinary delivery pipeline as one synthetic event
 * per customer (`backfill:<job>:<customer>`), planned by the customer's CustomerSync object: fields
 * Bloomreach already has from the relay are not sent again, and `update_timestamp` is the time of the
 * mirrored snapshot, so a newer live value is never overwritten (the object drops the stale field,
 * and Bloomreach would ignore it too).
 *
 * - Resumable: a page runs only while the job's cursor is where the page starts; finishing it moves
 *   the cursor and adds the page's counts in one conditional update, then queues the next page. A
 *   page redelivered after it finished does nothing; one that crashed half-way runs again and its
 *   customers already sent are settled in their objects (not sent twice). If the next page's message
 *   is lost, the cron sweep finds the job quiet and queues the page after the cursor again.
 * - Live webhooks first: the page's Bloomreach calls take only the permits live deliveries leave
 *   spare (`priority: "background"`), and the queue never holds more than one page of a job.
 * - One job at a time (a partial unique index), cancellable: a page of a cancelled job does nothing.
 */
import * as v from "valibot";
import {
  abandonJobRetries,
  type BackfillJobRow,
  type BackfillMirrorRow,
  backfillEventId,
  countMirror,
  endJob,
  finishPage,
  insertRunningJob,
  latestJob,
  readBackfillPage,
  readJob,
  readJobFailures,
  readStalledJob,
  touchJob,
} from "../db/backfill-queries";
import { JsonObjectSchema, type RelayEvent } from "../domain/event";
import type { BackfillPageMessage, QueueMessage } from "../domain/queue-message";
import { parseEventTime } from "../domain/workflow/calendar";
import { RelayError } from "../lib/errors";
import { errorMessage, logger } from "../lib/logger";
import { loadBloomreachCredentials, loadPlanConfig } from "./config";
import { type DeliveryDeps, type DeliveryJob, type DeliveryReport, deliverEvents } from "./deliver";
import { type DeliveryLog, sleepFor } from "./delivery/ports";

export interface BackfillDeps extends DeliveryDeps {
  /** Where the pages go (RelayDeps.backfillQueue). */
  backfillQueue: Queue<QueueMessage>;
  /** Customers per page (default DEFAULT_BACKFILL_PAGE). */
  backfillPageSize?: number;
  /** The pause after each part of a page, as a multiple of the part's time (default BACKFILL_PACE). */
  backfillPace?: number;
}

/** Customers delivered together: one full Bloomreach call when each has one command. */
const BACKFILL_CHUNK = 50;
/** Half the isolate's time for live deliveries while a backfill runs. */
export const BACKFILL_PACE = 1;

/** Five full Bloomreach calls a page: short consumer runs, and a job is 2,000 pages per 500,000. */
export const DEFAULT_BACKFILL_PAGE = 250;
export const MAX_BACKFILL_PAGE = 1000;
/** A running job whose pages have been quiet this long lost its next page: the sweep queues it again. */
export const BACKFILL_STALL_SECONDS = 300;
/** Failures listed in the progress answer. */
const FAILURES_LISTED = 50;
/** The synthetic events' action, as the delivery log shows it. */
const BACKFILL_ACTION = "backfill";

export interface BackfillProgress {
  id: string;
  status: BackfillJobRow["status"];
  total: number;
  sent: number;
  skipped: number;
  failed: number;
  startedAt: number;
  finishedAt: number | null;
  updatedSince: number | null;
  error?: string;
  /** The customers that did not make it, with the reason (at most FAILURES_LISTED). */
  failures: { customerId: string; status: string; error: string | null }[];
}

async function progressOf(deps: Pick<BackfillDeps, "db">, job: BackfillJobRow): Promise<BackfillProgress> {
  const failures = job.failed > 0 ? await readJobFailures(deps.db, job.id, FAILURES_LISTED) : [];
  return {
    id: job.id,
    status: job.status as BackfillJobRow["status"],
    total: job.total,
    sent: job.sent,
    skipped: job.skipped,
    failed: job.failed,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    updatedSince: job.updatedSince,
    ...(job.error ? { error: job.error } : {}),
    failures,
  };
}

export async function startBackfill(
  deps: BackfillDeps,
  input: { updatedSince?: number | undefined },
): Promise<{ id: string; total: number }> {
  const [credentials, config] = await Promise.all([loadBloomreachCredentials(deps), loadPlanConfig(deps)]);
  if (!credentials) throw new RelayError("not_configured", "save the Bloomreach connection before a backfill");
  if (!config.mapping.hardId) throw new RelayError("not_configured", "map the hard ID before a backfill");
  const now = deps.now();
  const pageSize = Math.min(MAX_BACKFILL_PAGE, Math.max(1, deps.backfillPageSize ?? DEFAULT_BACKFILL_PAGE));
  const total = await countMirror(deps.db, input.updatedSince);
  const id = `bf-${crypto.randomUUID()}`;
  const inserted = await insertRunningJob(deps.db, {
    id,
    status: "running",
    updatedSince: input.updatedSince ?? null,
    pageSize,
    total,
    startedAt: now,
    heartbeatAt: now,
  });
  if (!inserted) throw new RelayError("conflict", "a backfill is already running: wait for it or cancel it");
  try {
    await deps.backfillQueue.send({ type: "backfill_page", jobId: id } satisfies BackfillPageMessage, {
      contentType: "json",
    });
  } catch (error) {
    await endJob(deps.db, id, "failed", now, `could not be queued: ${errorMessage(error)}`).catch(() => undefined);
    throw new RelayError("unavailable", "the backfill could not be queued; try again");
  }
  logger.info("backfill started", { backfillId: id, total, updatedSince: input.updatedSince ?? null });
  return { id, total };
}

export async function getBackfill(deps: Pick<BackfillDeps, "db">, id: string): Promise<BackfillProgress> {
  const job = await readJob(deps.db, id);
  if (!job) throw new RelayError("not_found", `no backfill ${id}`);
  return progressOf(deps, job);
}

/** The newest job, for the Customers page. */
export async function latestBackfill(deps: Pick<BackfillDeps, "db">): Promise<BackfillProgress | undefined> {
  const job = await latestJob(deps.db);
  return job ? progressOf(deps, job) : undefined;
}

/** Cancels a running job (a cancelled one answers as it stands); a finished one is a 409. */
export async function cancelBackfill(deps: Pick<BackfillDeps, "db" | "now">, id: string): Promise<BackfillProgress> {
  const job = await readJob(deps.db, id);
  if (!job) throw new RelayError("not_found", `no backfill ${id}`);
  if (job.status === "running") {
    const now = deps.now();
    await endJob(deps.db, id, "cancelled", now);
    await abandonJobRetries(deps.db, id, "the backfill was cancelled", now);
    logger.info("backfill cancelled", { backfillId: id });
  } else if (job.status !== "cancelled") {
    throw new RelayError("conflict", `backfill ${id} is ${job.status}; only a running one can be cancelled`);
  }
  return getBackfill(deps, id);
}

/**
 * The time of the mirrored snapshot: when the relay mirrored it, or Antavo's own `updated_at` when
 * that is older (an export read before later live events must not win over them).
 */
export function snapshotTime(row: BackfillMirrorRow, snapshot: Record<string, unknown>): number {
  const antavo = parseEventTime(snapshot.updated_at);
  return antavo !== undefined && antavo < row.updatedAt ? antavo : row.updatedAt;
}

function backfillEvent(jobId: string, row: BackfillMirrorRow, receivedAt: number): RelayEvent | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(row.snapshot);
  } catch {
    return undefined;
  }
  const snapshot = v.safeParse(JsonObjectSchema, parsed);
  if (!snapshot.success) return undefined;
  return {
    id: backfillEventId(jobId, row.id),
    action: BACKFILL_ACTION,
    customerId: row.id,
    customer: { ...snapshot.output, id: row.id },
    data: {},
    createdAt: snapshotTime(row, snapshot.output),
    receivedAt,
    backfill: { jobId },
  };
}

/**
 * The log of a backfill keeps what was sent and what failed; a customer with nothing to send is only
 * counted. A retry is the page's own (its message is retried), so no row waits for the sweeper.
 */
function backfillLog(log: DeliveryLog): DeliveryLog {
  return {
    write: (entries, now, side) =>
      log.write(
        entries
          .filter((e) => !(e.status === "delivered" && e.commands.length === 0))
          .map(({ nextAttemptAt: _, ...e }) => e),
        now,
        side,
      ),
  };
}

/**
 * A page goes through the pipeline a Bloomreach call's worth of customers at a time, pausing after
 * each part as long as the part took (BACKFILL_PACE): the Worker's isolate is shared with live
 * deliveries, and a page planned all at once would keep them waiting for its object calls.
 */
async function deliverPaced(deps: BackfillDeps, jobs: DeliveryJob[]): Promise<DeliveryReport> {
  const report: DeliveryReport = { outcomes: new Map(), planned: new Map(), logged: true };
  const background: DeliveryDeps = { ...deps, priority: "background", deliveryLog: backfillLog(deps.deliveryLog) };
  const pace = deps.backfillPace ?? BACKFILL_PACE;
  const sleep = sleepFor(deps);
  for (let i = 0; i < jobs.length; i += BACKFILL_CHUNK) {
    const started = Date.now();
    const part = await deliverEvents(background, jobs.slice(i, i + BACKFILL_CHUNK));
    for (const [id, outcome] of part.outcomes) report.outcomes.set(id, outcome);
    for (const [id, n] of part.planned ?? []) report.planned!.set(id, n);
    report.logged &&= part.logged;
    if ([...part.outcomes.values()].some((o) => o.status === "paused")) break;
    const took = Date.now() - started;
    if (pace > 0 && i + BACKFILL_CHUNK < jobs.length) await sleep(Math.min(2000, took * pace));
  }
  return report;
}

export type PageVerdict =
  | { kind: "done"; sent: number; skipped: number; failed: number; next?: string; stopped?: string }
  | { kind: "retry"; delaySeconds: number; reason: string };

/** One page of a job: its customers through the pipeline, then the counts and the next page. */
export async function runBackfillPage(
  deps: BackfillDeps,
  message: BackfillPageMessage,
  attempt: number,
): Promise<PageVerdict> {
  const stop = (stopped: string): PageVerdict => ({ kind: "done", sent: 0, skipped: 0, failed: 0, stopped });
  const job = await readJob(deps.db, message.jobId);
  if (!job) return stop("the job no longer exists");
  if (job.status !== "running") return stop(`the job is ${job.status}`);
  if ((job.cursor ?? undefined) !== message.cursor) return stop("the page was already finished");

  const now = deps.now();
  await touchJob(deps.db, job.id, now);
  const rows = await readBackfillPage(deps.db, {
    limit: job.pageSize,
    cursor: message.cursor ?? null,
    updatedSince: job.updatedSince,
  });
  const last = rows.length < job.pageSize;
  if (rows.length === 0) {
    await endJob(deps.db, job.id, "done", now);
    return { kind: "done", sent: 0, skipped: 0, failed: 0 };
  }

  const jobs: DeliveryJob[] = [];
  let failed = 0;
  for (const row of rows) {
    const event = backfillEvent(job.id, row, now);
    if (event) jobs.push({ event, attempt });
    else failed++;
  }
  const report = await deliverPaced(deps, jobs);

  let sent = 0;
  let skipped = 0;
  let retry: { delaySeconds: number; reason: string } | undefined;
  for (const { event } of jobs) {
    const outcome = report.outcomes.get(event.id);
    if (outcome?.status === "paused") {
      await endJob(deps.db, job.id, "failed", now, `Bloomreach delivery is paused: ${outcome.error}`);
      return stop("Bloomreach delivery is paused");
    }
    if (outcome?.status === "retry") {
      if (!retry || outcome.delaySeconds < retry.delaySeconds)
        retry = { delaySeconds: outcome.delaySeconds, reason: outcome.error };
    } else if (outcome?.status === "delivered") {
      if ((report.planned?.get(event.id) ?? 0) > 0) sent++;
      else skipped++;
    } else failed++;
  }
  if (retry || !report.logged) {
    // The page runs again: what was sent is recorded (outbox or objects), only the rest goes out.
    const delaySeconds = retry?.delaySeconds ?? 10;
    await touchJob(deps.db, job.id, now + delaySeconds);
    return { kind: "retry", delaySeconds, reason: retry?.reason ?? "the delivery log could not be written" };
  }

  const to = rows[rows.length - 1]!.id;
  const finished = await finishPage(
    deps.db,
    job.id,
    { from: message.cursor ?? null, to, sent, skipped, failed, last },
    now,
  );
  if (!finished) return stop("the page was finished or the job stopped meanwhile");
  if (!last)
    await deps.backfillQueue.send({ type: "backfill_page", jobId: job.id, cursor: to }, { contentType: "json" });
  else logger.info("backfill done", { backfillId: job.id });
  return { kind: "done", sent, skipped, failed, ...(last ? {} : { next: to }) };
}

/** Cron: a running job quiet for BACKFILL_STALL_SECONDS lost its page; queue the page after its cursor. */
export async function resumeStalledBackfill(
  deps: Pick<BackfillDeps, "db" | "backfillQueue" | "now">,
): Promise<string | undefined> {
  const now = deps.now();
  const job = await readStalledJob(deps.db, now - BACKFILL_STALL_SECONDS);
  if (!job) return undefined;
  await touchJob(deps.db, job.id, now);
  await deps.backfillQueue.send(
    { type: "backfill_page", jobId: job.id, ...(job.cursor ? { cursor: job.cursor } : {}) },
    { contentType: "json" },
  );
  logger.info("backfill resumed", { backfillId: job.id, cursor: job.cursor });
  return job.id;
}
