/** The cron transport: one trigger a minute runs the housekeeping sweep (and the date workflows). */
import type { RelayDeps } from "../composition";
import { startDateRuns } from "../services/date-runs";
import { sweepDeliveries } from "../services/housekeeping";

export async function runScheduled(controller: ScheduledController, deps: RelayDeps): Promise<void> {
  // The controller's time, not the clock: a late or repeated run acts for the minute it was meant for.
  const scheduled = { ...deps, now: () => Math.floor(controller.scheduledTime / 1000) };
  // A failed start is tried again by the next tick (an occurrence stays due until UTC midnight);
  // it must not keep the sweeper from running.
  try {
    const started = await startDateRuns(scheduled);
    if (started.length > 0) console.log(JSON.stringify({ cron: controller.cron, dateScansStarted: started }));
  } catch (error) {
    console.error(
      JSON.stringify({ cron: controller.cron, message: `starting date workflows failed: ${(error as Error).message}` }),
    );
  }
  const report = await sweepDeliveries(scheduled);
  if (report.requeuedStuck + report.requeuedParked > 0)
    console.log(JSON.stringify({ cron: controller.cron, ...report }));
}
