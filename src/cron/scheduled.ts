/**
 * The cron transport: one trigger a minute runs the housekeeping sweep, the settlements no plan
 * call carried, and the date workflows.
 */
import type { RelayDeps } from "../composition";
import { errorMessage, logger, withLogScope } from "../lib/logger";
import { resumeStalledBackfill } from "../services/backfill";
import { startDateRuns } from "../services/date-runs";
import { sweepDeliveries } from "../services/housekeeping";
import { applyStaleSettlements } from "../services/settlement-sweep";

export function runScheduled(controller: ScheduledController, deps: RelayDeps): Promise<void> {
  // The tick's identity, on every line it logs (the stages' too): its cron and the minute it was meant for.
  return withLogScope({ cron: controller.cron, scheduledTime: controller.scheduledTime }, () =>
    runTick(controller, deps),
  );
}

async function runTick(controller: ScheduledController, deps: RelayDeps): Promise<void> {
  // The controller's time, not the clock: a late or repeated run acts for the minute it was meant for.
  const scheduled = { ...deps, now: () => Math.floor(controller.scheduledTime / 1000) };
  // A failed start is tried again by the next tick (an occurrence stays due until UTC midnight);
  // it must not keep the sweeper from running.
  try {
    const started = await startDateRuns(scheduled);
    if (started.length > 0) logger.info("date scans started", { dateScansStarted: started });
  } catch (error) {
    logger.error(`starting date workflows failed: ${errorMessage(error)}`);
  }
  // A backfill whose next page was lost goes on from its cursor (finished pages are not run again).
  try {
    const resumed = await resumeStalledBackfill(scheduled);
    if (resumed) logger.info("backfill resumed", { backfillId: resumed });
  } catch (error) {
    logger.error(`resuming the backfill failed: ${errorMessage(error)}`);
  }
  const report = await sweepDeliveries(scheduled);
  if (report.requeuedStuck + report.requeuedParked > 0) logger.info("sweep requeued events", { ...report });
  // After the sweep: it may take a while, and lost hand-offs come first.
  try {
    const applied = await applyStaleSettlements(scheduled);
    if (applied > 0) logger.info("settlements applied", { settlementsApplied: applied });
  } catch (error) {
    logger.error(`applying settlements failed: ${errorMessage(error)}`);
  }
}
