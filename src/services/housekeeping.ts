/**
 * The cron sweeper: puts back on the queue what the platform lost (events never delivered, retries
 * long overdue), sends parked events once the connection is active again, and prunes the log past
 * the retention. Every step is idempotent, so a cron that fires late or twice does no harm.
 */
import { readBloomreachConnection, readSettings } from "../db/config-queries";
import { pruneDeliveryLog } from "../db/delivery-log-queries";
import { pruneDedupeKeys } from "../db/inbound-queries";
import { type DeliveriesDeps, requeueParked, requeueStuck } from "./deliveries";

/** Longer than the queue's batch wait and a consumer run, so in-flight work is left alone. */
export const STUCK_GRACE_SECONDS = 15 * 60;

export interface SweepReport {
  requeuedStuck: number;
  requeuedParked: number;
}

export async function sweepDeliveries(deps: DeliveriesDeps): Promise<SweepReport> {
  const [connection, settings] = await Promise.all([readBloomreachConnection(deps.db), readSettings(deps.db)]);
  const requeuedStuck = await requeueStuck(deps, STUCK_GRACE_SECONDS);
  const active = connection?.apiSecretEnc && connection.deliveryState === "active";
  const requeuedParked = active ? await requeueParked(deps) : 0;
  const retentionCutoff = deps.now() - settings.retentionDays * 24 * 3600;
  await pruneDeliveryLog(deps.db, retentionCutoff);
  await pruneDedupeKeys(deps.db, deps.now(), retentionCutoff);
  return { requeuedStuck, requeuedParked };
}
