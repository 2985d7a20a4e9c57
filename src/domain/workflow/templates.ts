/**
 * `{{root.path}}` templates in workflow action properties. A property that is exactly one
 * placeholder keeps the value's type (Bloomreach stores numbers as numbers), and a missing value
 * drops the property instead of writing the text "undefined" into a customer profile (DESIGN 4.3).
 */
import { isPrototypeKey } from "../../lib/input-limits";
import { readLoyaltyField, readPath } from "../paths";

/** `claim` is the Antavo reward-claim answer, available only to actions after a `reward_claim`. */
export const TEMPLATE_ROOTS = ["event", "customer", "now", "claim"] as const;
export type TemplateRoot = (typeof TEMPLATE_ROOTS)[number];

/**
 * `count` exists because a template cannot otherwise turn `items[]` into a number
 * (`{{event.items|count}}` is the number of array entries; not an array → missing).
 */
export const TEMPLATE_FILTERS = ["count"] as const;
export type TemplateFilter = (typeof TEMPLATE_FILTERS)[number];

export interface Placeholder {
  /** The whole `{{…}}` text. */
  text: string;
  root: string;
  path?: string;
  filter?: string;
}

export interface TemplateScope {
  event?: Record<string, unknown>;
  customer?: Record<string, unknown>;
  claim?: Record<string, unknown>;
  /** Unix seconds. */
  now: number;
}

const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;
const WHOLE_PLACEHOLDER = /^\s*\{\{[^{}]*\}\}\s*$/;
const EXPRESSION = /^([A-Za-z_][A-Za-z0-9_]*)(?:\.(.*))?$/;
const PATH_SEGMENT = /^[^\s.]+$/;

function parseExpression(text: string, inner: string): Placeholder {
  const [expression = "", filter, ...extra] = inner.split("|").map((part) => part.trim());
  const match = EXPRESSION.exec(expression);
  const placeholder: Placeholder = { text, root: match?.[1] ?? expression };
  if (match?.[2] !== undefined) placeholder.path = match[2];
  if (filter !== undefined) placeholder.filter = [filter, ...extra].join("|");
  return placeholder;
}

export function parsePlaceholders(template: string): Placeholder[] {
  return [...template.matchAll(PLACEHOLDER)].map((match) => parseExpression(match[0], match[1] ?? ""));
}

/** The distinct roots a template reads, in order of first use (e.g. to reject `event` in a date workflow). */
export function templateRoots(template: string): string[] {
  return [...new Set(parsePlaceholders(template).map((placeholder) => placeholder.root))];
}

/** Syntax problems in one template string; the document schema adds the rules that depend on context. */
export function templateProblems(template: string): string[] {
  return placeholderProblems(template, TEMPLATE_ROOTS, ["now"]);
}

/**
 * Syntax problems of a template in a dialect: its roots, and which of them are values that take
 * no path (`now` for workflows, `timestamp` for inbound rules).
 */
export function placeholderProblems(template: string, roots: readonly string[], pathless: readonly string[]): string[] {
  const problems: string[] = [];
  for (const { text, root, path, filter } of parsePlaceholders(template)) {
    if (!roots.includes(root)) {
      problems.push(`${text}: unknown root "${root}"; expected one of ${roots.join(", ")}`);
      continue;
    }
    if (pathless.includes(root)) {
      if (path !== undefined) problems.push(`${text}: "${root}" takes no path`);
    } else if (path === undefined || !path.split(".").every((segment) => PATH_SEGMENT.test(segment))) {
      problems.push(`${text}: needs a dot path after "${root}", like {{${root}.name}}`);
    } else if (path?.split(".").some(isPrototypeKey)) {
      // Paths read own properties only (domain/paths), so these would render absent: refuse them as a mistake.
      problems.push(`${text}: "__proto__", "constructor" and "prototype" are not field names`);
    }
    if (filter !== undefined && !(TEMPLATE_FILTERS as readonly string[]).includes(filter)) {
      problems.push(`${text}: unknown filter "${filter}"; expected one of ${TEMPLATE_FILTERS.join(", ")}`);
    }
  }
  return problems;
}

function resolve({ root, path, filter }: Placeholder, scope: TemplateScope): unknown {
  let value: unknown;
  if (root === "now") value = path === undefined ? scope.now : undefined;
  else if (path === undefined) value = undefined;
  else if (root === "customer") value = scope.customer ? readLoyaltyField(scope.customer, path) : undefined;
  else if (root === "event") value = readPath(scope.event, path);
  else if (root === "claim") value = readPath(scope.claim, path);
  return applyFilter(value, filter);
}

function toText(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** How a placeholder becomes a value; each template dialect (workflows, inbound rules) has its own. */
export type PlaceholderResolver = (placeholder: Placeholder) => unknown;

/**
 * Renders a template value recursively. `undefined` means "absent": a whole-placeholder string
 * whose path is missing. Absent entries are dropped from objects and arrays alike (an array entry
 * cannot be "absent" any other way without inventing a null).
 */
export function renderValueWith(value: unknown, resolver: PlaceholderResolver): unknown {
  if (typeof value === "string") {
    if (WHOLE_PLACEHOLDER.test(value)) {
      const [placeholder] = parsePlaceholders(value);
      return placeholder ? resolver(placeholder) : value;
    }
    return value.replace(PLACEHOLDER, (text, inner: string) => toText(resolver(parseExpression(text, inner))));
  }
  if (Array.isArray(value)) {
    return value.map((item) => renderValueWith(item, resolver)).filter((item) => item !== undefined);
  }
  if (value !== null && typeof value === "object") {
    const rendered: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      const output = renderValueWith(item, resolver);
      if (output !== undefined) rendered[key] = output;
    }
    return rendered;
  }
  return value;
}

/** A workflow template value (roots event, customer, now, claim). */
export const renderValue = (value: unknown, scope: TemplateScope): unknown =>
  renderValueWith(value, (placeholder) => resolve(placeholder, scope));

/** Renders each property; properties whose value is absent are left out. */
export const renderProperties = (properties: Record<string, unknown>, scope: TemplateScope) =>
  renderValue(properties, scope) as Record<string, unknown>;

/** A count filter applied to a resolved value, shared by the dialects. */
export function applyFilter(value: unknown, filter: string | undefined): unknown {
  if (filter === "count") return Array.isArray(value) ? value.length : undefined;
  return filter === undefined ? value : undefined;
}
