/**
 * Why a workflow did or did not match an event (or, for a date workflow, a customer): the first
 * check that failed, in the engine's own order (trigger, campaign window, filters one by one). The
 * engine itself only needs a yes or no; "Try it" needs to tell the admin which filter to look at,
 * with the value it read, so this repeats the engine's checks with the same functions.
 */
import type { RelayEvent } from "../event";
import type { WorkflowDocument, WorkflowFilter } from "./document";
import { eventContext, isInWindow } from "./engine";
import { evaluateFilter, readFilterAttribute } from "./filters";

export type MatchExplanation =
  | { matched: true }
  | { matched: false; reason: "trigger"; expected: string; actual: string }
  | { matched: false; reason: "window" }
  | { matched: false; reason: "filter"; index: number; filter: WorkflowFilter; actual: unknown };

export function explainMatch(
  document: WorkflowDocument,
  event: RelayEvent,
  customer: Record<string, unknown>,
  now: number,
): MatchExplanation {
  const { trigger } = document;
  const dated = trigger.type === "date";
  if (trigger.type === "event" && trigger.action !== event.action)
    return { matched: false, reason: "trigger", expected: trigger.action, actual: event.action };
  // A date run is filtered at its tick's time, as matchDateWorkflow does.
  const at = dated ? event.createdAt : now;
  if (!isInWindow(document, at)) return { matched: false, reason: "window" };
  const ctx = { ...(dated ? {} : { event: eventContext(event) }), customer, now: at };
  for (const [index, filter] of document.filters.entries()) {
    if (!evaluateFilter(filter, ctx))
      return { matched: false, reason: "filter", index, filter, actual: readFilterAttribute(filter, ctx) };
  }
  return { matched: true };
}
