/** GET /admin: the dashboard, read from the config services and the dashboard's own aggregates. */

import { deliveriesPerHour, deliveryStatusCounts, recentFailures } from "../../db/dashboard-queries";
import { settlementBacklog } from "../../db/settlement-queries";
import { getAntavoConnection, getBloomreachConnection, getMapping, getSettings } from "../../services/config";
import { listWorkflows } from "../../services/workflows";
import { DashboardPage } from "../../ui/pages/dashboard";
import { type UiContext, viewContext } from "./context";

/**
 * Vendor answers the minute cron should have recorded in their customers' objects by now (it takes
 * those older than a minute): older than this, the cron is behind or not running.
 */
const SETTLEMENT_BACKLOG_NOTICE_SECONDS = 300;

export async function dashboardPage(c: UiContext) {
  const deps = c.get("deps");
  const [counts, inbound, hourly, failures, connection, antavo, mapping, settings, workflows, backlog] =
    await Promise.all([
      deliveryStatusCounts(deps.db),
      deliveryStatusCounts(deps.db, "to_antavo"),
      deliveriesPerHour(deps.db, deps.now()),
      recentFailures(deps.db),
      getBloomreachConnection(deps),
      getAntavoConnection(deps),
      getMapping(deps),
      getSettings(deps),
      listWorkflows(deps),
      settlementBacklog(deps.db, deps.now() - SETTLEMENT_BACKLOG_NOTICE_SECONDS),
    ]);
  return c.html(
    <DashboardPage
      ctx={viewContext(c)}
      data={{
        counts,
        inbound,
        hourly,
        failures,
        connection,
        antavoConfigured: antavo.configured,
        mapping,
        settings,
        activeWorkflows: workflows.items.filter((w) => w.status === "active").length,
        ...(backlog.count > 0 ? { settlementBacklog: backlog } : {}),
      }}
    />,
  );
}
