/**
 * `POST /api/preview`: the exact plan an event would produce, from the same planner the pipeline
 * uses, against the mirrored customer. Reads only; sends and stores nothing. With a workflow id the
 * plan includes that workflow even while it is inactive ("try it" before activating), and a date
 * workflow is planned as today's scan would plan it for the event's customer.
 */
import type { Database } from "../db/client";
import { readCustomer } from "../db/customer-queries";
import { readWorkflowRow, toStoredWorkflow } from "../db/workflow-queries";
import type { RelayEvent } from "../domain/event";
import { type PlanConfig, planEvent } from "../domain/plan-event";
import { mergeSnapshot } from "../domain/planner";
import { RelayError } from "../lib/errors";
import { loadPlanConfig } from "./config";

export interface PreviewOptions {
  customer?: Record<string, unknown>;
  workflowId?: string;
}

async function withWorkflow(db: Database, config: PlanConfig, event: RelayEvent, now: number, workflowId: string) {
  const row = await readWorkflowRow(db, workflowId);
  const workflow = row && toStoredWorkflow(row);
  if (!workflow)
    throw new RelayError("not_found", `no workflow ${workflowId}`, [{ path: "workflowId", message: "is unknown" }]);
  const workflows = [...config.workflows.filter((w) => w.id !== workflowId), { ...workflow, active: true }];
  const dated: RelayEvent =
    workflow.document.trigger.type === "date"
      ? {
          ...event,
          createdAt: now,
          dateRun: { workflowId, occurrence: new Date(now * 1000).toISOString().slice(0, 10) },
        }
      : event;
  return { config: { ...config, workflows }, event: dated };
}

export async function previewEvent(
  deps: { db: Database; now: () => number },
  input: RelayEvent,
  options: PreviewOptions = {},
) {
  const now = deps.now();
  const [loaded, stored] = await Promise.all([
    loadPlanConfig(deps),
    options.customer
      ? Promise.resolve(options.customer)
      : readCustomer(deps.db, input.customerId).then((row) => row?.snapshot),
  ]);
  const { config, event } = options.workflowId
    ? await withWorkflow(deps.db, loaded, input, now, options.workflowId)
    : { config: loaded, event: input };
  const customer = mergeSnapshot(stored, event);
  const { commands, warnings, claims } = planEvent(config, event, customer, now);
  // A claim's follow-up actions render only with Antavo's answer; the preview lists them unrendered.
  return {
    event,
    customer,
    commands,
    actions: claims.map((c) => c.action),
    warnings,
    // biome-ignore lint/suspicious/noThenProperty: `then` is a field of the public preview answer, never awaited.
    afterClaims: claims.map((c) => ({ claim: c.action, then: c.remaining })),
  };
}
