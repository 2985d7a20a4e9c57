/** The cron transport: one trigger a minute runs the housekeeping sweep (and the date workflows). */
import type { RelayDeps } from "../composition";
import { sweepDeliveries } from "../services/housekeeping";

export async function runScheduled(controller: ScheduledController, deps: RelayDeps): Promise<void> {
  // The controller's time, not the clock: a late or repeated run acts for the minute it was meant for.
  const scheduled = { ...deps, now: () => Math.floor(controller.scheduledTime / 1000) };
  const report = await sweepDeliveries(scheduled);
  if (report.requeuedStuck + report.requeuedParked > 0) console.log(JSON.stringify({ cron: controller.cron, ...report }));
}
