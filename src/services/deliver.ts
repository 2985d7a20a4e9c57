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
 * Order of writes matters: the vendor's answer is recorded before any ack (in the settlement outbox
 * the customer's next plan call carries to its object, or in the object itself), so a crash after
 * a successful call never sends the event again.
 */
import { readInboundRules } from "../db/inbound-rule-queries";
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
  const reports = await Promise.all([deliverToBloomreach(deps, toBloomreach), deliverToAntavo(deps, toAntavo)]);
  return {
    outcomes: new Map(reports.flatMap((r) => [...r.outcomes])),
    logged: reports.every((r) => r.logged),
  };
}

async function deliverToBloomreach(deps: DeliveryDeps, jobs: DeliveryJob[]): Promise<DeliveryReport> {
  const now = deps.now();
  const customers = [...new Set(jobs.map((j) => j.event.customerId))];
  const context = await loadDeliveryContext(deps, customers);
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
  await performClaims(pipeline);
  const paused = await sendCommands(pipeline);
  if (paused) await pauseBloomreachDelivery(deps, paused);
  return finish(pipeline, now);
}

/** The other direction: Bloomreach events as Antavo events, under the budget every Antavo call shares. */
async function deliverToAntavo(deps: DeliveryDeps, jobs: DeliveryJob[]): Promise<DeliveryReport> {
  const now = deps.now();
  const [{ config, antavo: antavoCredentials }, rules] = await Promise.all([
    loadDeliveryContext(deps),
    readInboundRules(deps.db),
  ]);
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
  await sendCommands(pipeline);
  return finish(pipeline, now);
}
