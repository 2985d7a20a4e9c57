/**
 * The workflow engine as pure functions: which stored workflows an event or a cron date selects,
 * and the Bloomreach commands their actions render to. A `reward_claim` needs Antavo's answer before
 * the actions after it can render (`{{claim.coupon.code}}`), so running stops there and hands the
 * claim and the remaining actions back to the pipeline, which performs the claim and calls
 * `runActions` again with `ctx.claim` set.
 */
import type { CustomerIds, PlannedCommand, RewardClaimAction } from "../commands";
import type { RelayEvent } from "../event";
import { parseInstant } from "./calendar";
import type { WorkflowAction, WorkflowDocument } from "./document";
import { evaluateFilters } from "./filters";
import { renderProperties } from "./templates";

export type StoredWorkflow = {
  id: string;
  name: string;
  active: boolean;
  /** Authoritative order (the stored column); lower runs first. */
  priority: number;
  /** Unix seconds. */
  createdAt: number;
  document: WorkflowDocument;
};

export interface ActionContext {
  /** The event context (see eventContext); absent for date-triggered runs. */
  event?: Record<string, unknown>;
  customer: Record<string, unknown>;
  /** Unix seconds: `{{now}}` and campaign windows. */
  now: number;
  /**
   * When the event happened (a date run: its cron tick), Unix seconds. Every command of one event
   * carries this one time, whichever part of the plan made it.
   */
  at: number;
  /** Properties every Bloomreach event of the relay event carries (`antavo_event_id`, …). */
  envelope: Record<string, unknown>;
  /** Antavo's answer to the preceding reward_claim. */
  claim?: Record<string, unknown>;
}

export interface ActionRun {
  commands: PlannedCommand[];
  /** Set when running stopped at a reward_claim: perform it, then run `remaining` with ctx.claim. */
  claim?: { action: RewardClaimAction; remaining: WorkflowAction[] };
}

/**
 * What `{{event.…}}` and event_attribute filters read: the event's data with its envelope on top,
 * so `{{event.created_at}}` is the event time even if the data carries its own `created_at`.
 */
export function eventContext(event: RelayEvent): Record<string, unknown> {
  return {
    ...event.data,
    id: event.id,
    action: event.action,
    customer: event.customerId,
    created_at: event.createdAt,
    ...(event.account !== undefined ? { account: event.account } : {}),
    ...(event.externalId !== undefined ? { external_id: event.externalId } : {}),
  };
}

/** General workflows always run; a campaign runs from startsAt (inclusive) to endsAt (exclusive). */
export function isInWindow(document: WorkflowDocument, now: number): boolean {
  if (document.kind !== "campaign") return true;
  const starts = parseInstant(document.startsAt);
  const ends = parseInstant(document.endsAt);
  if (starts === undefined || ends === undefined) return false;
  return starts <= now && now < ends;
}

/** Whether an event of `action` triggers the workflow (an event trigger on exactly that action). */
export const triggeredBy = (document: StoredWorkflow["document"], action: string): boolean =>
  document.trigger.type === "event" && document.trigger.action === action;

/** Priority, then age, then id: the same workflows always run in the same order. */
export function compareWorkflows(a: StoredWorkflow, b: StoredWorkflow): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function matchEventWorkflows(
  workflows: readonly StoredWorkflow[],
  event: RelayEvent,
  customer: Record<string, unknown>,
  now: number,
): StoredWorkflow[] {
  const context = eventContext(event);
  return workflows
    .filter(({ active, document }) => {
      if (!active || !triggeredBy(document, event.action)) return false;
      return isInWindow(document, now) && evaluateFilters(document.filters, { event: context, customer, now });
    })
    .sort(compareWorkflows);
}

/** Whether a due date workflow applies to this customer; whether it is due is schedule.dueOccurrence. */
export function matchDateWorkflow(workflow: StoredWorkflow, customer: Record<string, unknown>, now: number): boolean {
  const { active, document } = workflow;
  if (!active || document.trigger.type !== "date") return false;
  return isInWindow(document, now) && evaluateFilters(document.filters, { customer, now });
}

export function runActions(
  workflow: StoredWorkflow,
  actions: readonly WorkflowAction[],
  ctx: ActionContext,
  customerIds: CustomerIds,
  customerId: string,
): ActionRun {
  const source = { kind: "workflow" as const, workflowId: workflow.id, workflowName: workflow.name };
  const scope = { event: ctx.event, customer: ctx.customer, now: ctx.now, claim: ctx.claim };
  const commands: PlannedCommand[] = [];
  for (const [index, action] of actions.entries()) {
    if (action.type === "reward_claim") {
      return {
        commands,
        claim: {
          action: { type: "reward_claim", customerId, rewardId: action.rewardId, free: action.free, source },
          remaining: actions.slice(index + 1),
        },
      };
    }
    if (action.type === "sync_event") {
      commands.push({
        source,
        command: {
          name: "customers/events",
          data: {
            customer_ids: customerIds,
            event_type: action.event,
            timestamp: ctx.at,
            properties: { ...renderProperties(action.properties, scope), ...ctx.envelope },
          },
        },
      });
    } else {
      const properties = renderProperties(action.fields, scope);
      // Every field rendered absent: an empty update would only cost a batch slot.
      if (Object.keys(properties).length === 0) continue;
      commands.push({
        source,
        command: { name: "customers", data: { customer_ids: customerIds, properties, update_timestamp: ctx.at } },
      });
    }
  }
  return { commands };
}
