/**
 * The words the workflow pages use for the document's stored values. Admins know Antavo's own
 * workflow editor, which says "equal with" and "in date", not `not_equals` or `in_date`; the stored
 * values (and the API) stay as DESIGN 4.3 has them, only what is shown changes. Typed as complete
 * records, so a new operator or range cannot reach the page without a label.
 */
import type { FilterOperator } from "../domain/workflow/document";
import { FILTER_OPERATORS, type IN_DATE_RANGES } from "../domain/workflow/document";

export const OPERATOR_LABELS: Record<FilterOperator, string> = {
  equals: "equal with",
  not_equals: "not equal with",
  greater_than: "greater than",
  less_than: "less than",
  contains: "contains",
  in: "is one of",
  exists: "exists",
  in_date: "in date",
};

export const IN_DATE_LABELS: Record<(typeof IN_DATE_RANGES)[number], string> = {
  today: "today",
  this_week: "this week",
  this_month: "this month",
};

export const OPERATOR_OPTIONS: [string, string][] = FILTER_OPERATORS.map((op) => [op, OPERATOR_LABELS[op]]);

export const ACTION_TITLES: Record<string, string> = {
  sync_event: "Track a Bloomreach event",
  sync_fields: "Update Bloomreach customer properties",
  reward_claim: "Claim an Antavo reward",
};

export const operatorLabel = (operator: string) =>
  (OPERATOR_LABELS as Record<string, string>)[operator] ?? operator.replace(/_/g, " ");

export const filterSubject = (type: string) => (type === "event_attribute" ? "the event's" : "the customer's");

/** A value as the page quotes it: text in curly quotes, anything else as JSON. */
export const shownValue = (value: unknown) => (typeof value === "string" ? `“${value}”` : JSON.stringify(value));

/** `the customer's tier equal with "Gold"`: one filter as a sentence, for Try it's explanations. */
export function filterSentence(filter: { type: string; attribute: string; operator: string; value?: unknown }) {
  const value =
    filter.operator === "exists"
      ? ""
      : filter.operator === "in_date"
        ? ` ${(IN_DATE_LABELS as Record<string, string>)[String(filter.value)] ?? String(filter.value)}`
        : ` ${shownValue(filter.value)}`;
  const exists =
    filter.operator === "exists" && filter.value === false ? "does not exist" : operatorLabel(filter.operator);
  return `${filterSubject(filter.type)} ${filter.attribute} ${exists}${value}`;
}
