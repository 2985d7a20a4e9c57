/**
 * Delivery: takes a batch of events (from the queue consumer, sync mode or a replay) through the
 * stages in services/delivery, in order: plan (each customer's CustomerSync object), enrich
 * (Antavo's record, once per customer per TTL), claim (reward claims), send (<= 50-command
 * Bloomreach calls under the project's rate limit), then settle (each command's fate, for its
 * object) with log (the delivery log, the mirror, the workflows' last runs and the settlements in
 * one D1 batch). It returns one outcome per event; the caller turns them into ack / retry.
 *
 * Events from Bloomreach's webhook (DESIGN 4.4) take the other direction through the same stages:
 * resolve + plan (services/delivery/inbound), then send to the Antavo events sink, settle and log.
 *
 * Each batch ends with one "delivery batch" log line: its direction, outcomes by status and the
 * wall time of each stage (context, plan, claim, send, log), with the consumer batch's id from the
 * log scope.
 *
 * Order of writes matters: the vendor's answer is recorded before any ack (in the settlement outbox
 * the customer's next plan call carries to its object, or in the object itself), so a batch retried
 * after a successful call does not send the event again. Only a crash between the call and that
 * write leaves the answer unrecorded (at-least-once: the event may then reach Bloomreach twice).
 */
import { readInboundRules } from "../db/inbound-rule-queries";
import type { Direction } from "../domain/event";
import { errorMessage, logger } from "../lib/logger";
import { loadDeliveryContext, pauseBloomreachDelivery } from "./config";
import { antavoClientFor } from "./delivery/antavo";
import { byCustomer, type DeliveryDeps, type DeliveryJob, type DeliveryReport, newPipeline } from "./delivery/batch";
import { performClaims } from "./delivery/claim";
import { resolveAndPlanAntavo } from "./delivery/inbound";
import { finish, finishUnsent } from "./delivery/log";
import { planAll } from "./delivery/plan";
import { antavoEventsSink, bloomreachSink } from "./delivery/ports";
import { sendCommands } from "./delivery/send";

export { antavoClientFor } from "./delivery/antavo";
export type { DeliveryDeps, DeliveryJob, DeliveryOutcome, DeliveryReport } from "./delivery/batch";

/** Both directions of a batch, each through its own sink; one report. */
export async function deliverEvents(deps: DeliveryDeps, jobs: DeliveryJob[]): Promise<DeliveryReport> {
  const toAntavo = jobs.filter((j) => j.event.bloomreach);
  if (toAntavo.length === 0) return deliverToBloomreach(deps, jobs);
  const toBloomreach = jobs.filter((j) => !j.event.bloomreach);
  if (toBloomreach.length === 0) return deliverToAntavo(deps, toAntavo);
  // Both finish before a failure of either is thrown: the caller then delivers the events one by
  // one, and a direction still sending would send its commands a second time beside that.
  const settled = await Promise.allSettled([deliverToBloomreach(deps, toBloomreach), deliverToAntavo(deps, toAntavo)]);
  const failed = settled.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
  const reports = settled.map((r) => (r as PromiseFulfilledResult<DeliveryReport>).value);
  return {
    outcomes: new Map(reports.flatMap((r) => [...r.outcomes])),
    logged: reports.every((r) => r.logged),
  };
}

/**
 * Wall time per stage of one batch (workerd's clock moves with I/O, and every stage does I/O),
 * reported with the batch's outcomes in one "delivery batch" line: where a slow batch spent its time.
 */
function stageTimer() {
  const stageMs: Record<string, number> = {};
  let last = Date.now();
  return {
    stageMs,
    mark(stage: string) {
      const at = Date.now();
      stageMs[stage] = at - last;
      last = at;
    },
  };
}

function logBatch(direction: Direction, jobs: DeliveryJob[], report: DeliveryReport, stageMs: Record<string, number>) {
  const outcomes: Record<string, number> = {};
  for (const { status } of report.outcomes.values()) outcomes[status] = (outcomes[status] ?? 0) + 1;
  logger.info("delivery batch", { direction, events: jobs.length, outcomes, logged: report.logged, stageMs });
}

async function deliverToBloomreach(deps: DeliveryDeps, jobs: DeliveryJob[]): Promise<DeliveryReport> {
  const timer = stageTimer();
  const now = deps.now();
  const customers = [...new Set(jobs.map((j) => j.event.customerId))];
  const context = await loadDeliveryContext(deps, customers);
  timer.mark("context");
  const { bloomreach: credentials, config, antavo: antavoCredentials } = context;

  if (!credentials || credentials.paused) {
    // Nothing can be sent: park the events (acked, logged as paused) until the connection is saved.
    const error = credentials
      ? `paused: ${credentials.pausedReason ?? "Bloomreach refused the credentials"}`
      : "the Bloomreach connection is not configured";
    return finishUnsent(deps.deliveryLog, jobs, { status: "paused", error }, "to_bloomreach", now);
  }

  const pipeline = newPipeline(
    {
      now: deps.now,
      config,
      store: deps.customerStore,
      sink: bloomreachSink(deps, credentials, config.settings),
      ...(antavoCredentials ? { antavo: antavoClientFor(deps, antavoCredentials, config.settings) } : {}),
      log: deps.deliveryLog,
      outbox: { waiting: byCustomer(context.settlements), applied: [] },
    },
    jobs,
  );

  await planAll(pipeline, now);
  timer.mark("plan");
  await performClaims(pipeline);
  timer.mark("claim");
  const paused = await sendCommands(pipeline);
  timer.mark("send");
  const report = await finish(pipeline, now);
  timer.mark("log");
  // After the outcomes are recorded: a failed pause write must not lose what was delivered before
  // the 401/403. The next batch meets the refusal again and pauses then.
  if (paused)
    await pauseBloomreachDelivery(deps, paused).catch((error) =>
      logger.error("pausing Bloomreach delivery failed", { error: errorMessage(error) }),
    );
  logBatch("to_bloomreach", jobs, report, timer.stageMs);
  return report;
}

/** The other direction: Bloomreach events as Antavo events, under the budget every Antavo call shares. */
async function deliverToAntavo(deps: DeliveryDeps, jobs: DeliveryJob[]): Promise<DeliveryReport> {
  const timer = stageTimer();
  const now = deps.now();
  const [{ config, antavo: antavoCredentials }, rules] = await Promise.all([
    loadDeliveryContext(deps),
    readInboundRules(deps.db),
  ]);
  timer.mark("context");
  if (!antavoCredentials) {
    // Like a reward claim: the events wait (retried with backoff) for the Antavo API connection.
    const error = "the Antavo API connection is not configured";
    return finishUnsent(deps.deliveryLog, jobs, { status: "retry", error }, "to_antavo", now);
  }
  const antavo = antavoClientFor(deps, antavoCredentials, config.settings);
  const pipeline = newPipeline(
    {
      now: deps.now,
      config: { ...config, workflows: [] },
      store: deps.customerStore,
      sink: antavoEventsSink(antavo),
      antavo,
      log: deps.deliveryLog,
    },
    jobs,
  );
  await resolveAndPlanAntavo(pipeline, { db: deps.db, rules, mapping: config.mapping }, now);
  timer.mark("plan");
  await sendCommands(pipeline);
  timer.mark("send");
  const report = await finish(pipeline, now);
  timer.mark("log");
  logBatch("to_antavo", jobs, report, timer.stageMs);
  return report;
}
