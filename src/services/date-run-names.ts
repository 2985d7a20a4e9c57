/**
 * Names for date-run deliveries. A date run is a synthetic event whose action is always
 * `workflow_date_run` (the pipeline, the sweeper and replay key nothing on it, but it is stored and
 * kept stable), which tells an admin reading the delivery log nothing. The workflow's id is in the
 * event id, so the label is derived when the log is read: "Birthday reward (date run)", and a
 * renamed workflow shows its new name on its old deliveries.
 */
import type { Database } from "../db/client";
import { readWorkflowNames } from "../db/workflow-queries";
import { DATE_RUN_ACTION, dateRunWorkflowId } from "./date-runs";

const dateRunLabel = (name: string | undefined) =>
  name === undefined ? "date run of a deleted workflow" : `${name} (date run)`;

/** Adds `actionLabel` (what the log shows in place of the action) to date-run deliveries. */
export async function withActionLabels<T extends { action: string; eventId: string }>(
  db: Database,
  items: T[],
): Promise<(T & { actionLabel?: string })[]> {
  const workflowOf = (item: T) => (item.action === DATE_RUN_ACTION ? dateRunWorkflowId(item.eventId) : undefined);
  const ids = [...new Set(items.map(workflowOf).filter((id): id is string => id !== undefined))];
  if (ids.length === 0) return items;
  const names = await readWorkflowNames(db, ids);
  return items.map((item) => {
    const id = workflowOf(item);
    return id === undefined ? item : { ...item, actionLabel: dateRunLabel(names.get(id)) };
  });
}
