/**
 * The whole plan for one event: the mapping planner's commands, then the matching workflows'
 * actions in their deterministic order. A `reward_claim` cannot be rendered here (it needs
 * Antavo's answer), so it comes back as a pending claim with the actions that follow it.
 * Synthetic date-run events run only their one date workflow.
 */
import type { Plan, PlannedCommand, RewardClaimAction } from "./commands";
import type { SyncConfig } from "./config";
import type { RelayEvent } from "./event";
import { eventEnvelope, planSync, resolveCustomerIds } from "./planner";
import type { WorkflowAction } from "./workflow/document";
import {
  type ActionContext,
  eventContext,
  matchDateWorkflow,
  matchEventWorkflows,
  runActions,
  type StoredWorkflow,
  triggeredBy,
} from "./workflow/engine";

export interface PlanConfig extends SyncConfig {
  /** Active workflows only; the engine orders them. */
  workflows: StoredWorkflow[];
}

/**
 * The part of the config that can plan these events: the mapping and settings, and only the
 * workflows one of them can trigger (an event workflow on one of their actions, the date workflow a
 * date run names). planEvent gives the same plan with it as with the whole config; an object call
 * carries this instead of every active workflow, so the config's size follows the workflows that
 * concern the customer's events, not how many the project has.
 */
export function planConfigFor(config: PlanConfig, events: readonly RelayEvent[]): PlanConfig {
  const actions = [...new Set(events.filter((e) => !e.dateRun).map((e) => e.action))];
  const dateWorkflows = new Set(events.flatMap((e) => (e.dateRun ? [e.dateRun.workflowId] : [])));
  const workflows = config.workflows.filter(
    ({ id, document }) => dateWorkflows.has(id) || actions.some((action) => triggeredBy(document, action)),
  );
  return workflows.length === config.workflows.length ? config : { ...config, workflows };
}

export interface PendingClaim {
  /** `<workflowId>:<n>`: one claim per workflow action, never performed twice. */
  key: string;
  action: RewardClaimAction;
  remaining: WorkflowAction[];
  context: ActionContext;
}

export interface EventPlan extends Plan {
  claims: PendingClaim[];
}

export function planEvent(
  config: PlanConfig,
  event: RelayEvent,
  customer: Record<string, unknown>,
  now: number,
): EventPlan {
  const base: Plan = event.dateRun ? { commands: [], warnings: [] } : planSync(config, event, customer);
  const plan: EventPlan = { ...base, claims: [] };
  // A backfill is the mirror's mapped fields and nothing else: no event is tracked, no workflow runs.
  if (event.backfill) return { ...plan, commands: plan.commands.filter((c) => c.source.kind === "mapping") };
  // A date run is judged at the cron tick that created it (createdAt), not at delivery: queue
  // delays or retries past midnight must not turn "birthday today" false.
  const workflows = event.dateRun
    ? config.workflows.filter(
        (w) => w.id === event.dateRun!.workflowId && matchDateWorkflow(w, customer, event.createdAt),
      )
    : matchEventWorkflows(config.workflows, event, customer, now);
  if (workflows.length === 0) return plan;

  const customerIds = resolveCustomerIds(config, customer);
  if (!customerIds) {
    // planSync already warned for ordinary events; a date run has no mapping plan to warn for it.
    if (event.dateRun) plan.warnings.push(`workflow ${workflows[0]!.name} needs the customer's hard ID`);
    plan.unidentified = true;
    return plan;
  }
  for (const workflow of workflows) {
    const context: ActionContext = {
      ...(event.dateRun ? {} : { event: eventContext(event) }),
      customer,
      now,
      at: event.createdAt,
      envelope: eventEnvelope(event),
    };
    const run = runActions(workflow, workflow.document.actions, context, customerIds, event.customerId);
    plan.commands.push(...run.commands);
    if (run.claim) {
      plan.claims.push({
        key: `${workflow.id}:${plan.claims.length}`,
        action: run.claim.action,
        remaining: run.claim.remaining,
        context,
      });
    }
  }
  return plan;
}

/** After Antavo answered a claim: the commands of the actions that followed it (and a next claim, if any). */
export function continueAfterClaim(
  config: PlanConfig,
  claim: PendingClaim,
  answer: Record<string, unknown>,
): { commands: PlannedCommand[]; claim?: PendingClaim } {
  const workflow = config.workflows.find((w) => w.id === claim.action.source.workflowId);
  const customerIds = resolveCustomerIds(config, claim.context.customer);
  if (!workflow || !customerIds) return { commands: [] };
  const context = { ...claim.context, claim: answer };
  const run = runActions(workflow, claim.remaining, context, customerIds, claim.action.customerId);
  return {
    commands: run.commands,
    ...(run.claim
      ? { claim: { key: `${claim.key}>`, action: run.claim.action, remaining: run.claim.remaining, context } }
      : {}),
  };
}
