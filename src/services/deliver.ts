/**
 * Delivery: takes a batch of events (from the queue consumer, sync mode or a replay) through the
 * stages in services/delivery, in order: plan (each customer's CustomerSync object), enrich
 * (Antavo's record, once per customer per TTL), claim (reward claims), send (<= 50-command
 * Bloomreach calls under the project's rate limit), settle (each command's fate recorded with its
 * object), log (the delivery log, the mirror and the workflows' last runs in one D1 batch). It
 * returns one outcome per event; the caller turns them into ack / retry.
 *
 * Order of writes matters: Bloomreach's answer is recorded in the CustomerSync object before the
 * log and before any ack, so a crash after a successful call never sends the event again.
 */
import type { DeliveryEntry } from "../db/delivery-queries";
import { sha256Hex } from "../lib/encoding";
import { loadAntavoCredentials, loadBloomreachCredentials, loadPlanConfig, pauseBloomreachDelivery } from "./config";
import { antavoClientFor } from "./delivery/antavo";
import type { DeliveryDeps, DeliveryJob, DeliveryOutcome, DeliveryReport, Pipeline } from "./delivery/batch";
import { performClaims } from "./delivery/claim";
import { finish, tryLog } from "./delivery/log";
import { planAll } from "./delivery/plan";
import { bloomreachSink } from "./delivery/ports";
import { sendCommands } from "./delivery/send";
import { settleAll } from "./delivery/settle";

export { antavoClientFor } from "./delivery/antavo";
export type { DeliveryDeps, DeliveryJob, DeliveryOutcome, DeliveryReport } from "./delivery/batch";

export async function deliverEvents(deps: DeliveryDeps, jobs: DeliveryJob[]): Promise<DeliveryReport> {
  const now = deps.now();
  const [credentials, config, antavoCredentials] = await Promise.all([
    loadBloomreachCredentials(deps),
    loadPlanConfig(deps),
    loadAntavoCredentials(deps),
  ]);

  if (!credentials || credentials.paused) {
    // Nothing can be sent: park the events (acked, logged as paused) until the connection is saved.
    const error = credentials
      ? `paused: ${credentials.pausedReason ?? "Bloomreach refused the credentials"}`
      : "the Bloomreach connection is not configured";
    const outcomes = new Map(jobs.map((j) => [j.event.id, { status: "paused", error } as DeliveryOutcome]));
    const entries = jobs.map(
      (j): DeliveryEntry => ({
        eventId: j.event.id,
        customerId: j.event.customerId,
        action: j.event.action,
        status: "paused",
        commands: [],
        lastError: error,
        attempts: [],
      }),
    );
    return { outcomes, logged: await tryLog(deps.deliveryLog, entries, now) };
  }

  const pipeline: Pipeline = {
    now: deps.now,
    config,
    configVersion: await sha256Hex(JSON.stringify(config)),
    store: deps.customerStore,
    sink: bloomreachSink(deps, credentials, config.settings),
    ...(antavoCredentials ? { antavo: antavoClientFor(deps, antavoCredentials, config.settings) } : {}),
    log: deps.deliveryLog,
    jobs: new Map(jobs.map((j) => [j.event.id, j])),
    replies: new Map(),
    extra: new Map(),
    attempts: new Map(),
    notes: new Map(),
    mirrors: new Map(),
    commandResults: new Map(),
  };

  await planAll(pipeline, now);
  await performClaims(pipeline);
  const paused = await sendCommands(pipeline);
  if (paused) await pauseBloomreachDelivery(deps, paused);
  await settleAll(pipeline);
  return finish(pipeline, now);
}
