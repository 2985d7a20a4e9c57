/**
 * The other way (DESIGN 4.4): rules that turn a Bloomreach event into an Antavo event. A rule names
 * the Bloomreach event type and the Antavo action; its `data` is a JSON object of templates over the
 * Bloomreach event: `{{properties.<path>}}`, `{{customer_ids.<name>}}`, `{{timestamp}}` (Unix
 * seconds). A value that is exactly one placeholder keeps the value's type (a number stays a
 * number); a missing value leaves the key out. Pure: no I/O.
 */
import { z } from "zod";
import type { AntavoEventData } from "./commands";
import { readPath } from "./paths";
import { applyFilter, type Placeholder, placeholderProblems, renderValueWith } from "./workflow/templates";

export const INBOUND_TEMPLATE_ROOTS = ["properties", "customer_ids", "timestamp"] as const;

const name = z.string().trim().min(1).max(200);

/** Every template string inside a `data` value, with its path below `data`. */
function templateStrings(
  value: unknown,
  path: (string | number)[] = [],
): { path: (string | number)[]; text: string }[] {
  if (typeof value === "string") return [{ path, text: value }];
  if (Array.isArray(value)) return value.flatMap((item, index) => templateStrings(item, [...path, index]));
  if (value !== null && typeof value === "object")
    return Object.entries(value).flatMap(([key, item]) => templateStrings(item, [...path, key]));
  return [];
}

export const InboundRuleSchema = z
  .object({
    eventType: name.regex(/^[\x20-\x7e]+$/, "must be ASCII (a Bloomreach event type)"),
    antavoAction: name,
    data: z.record(z.string(), z.unknown()).default({}),
  })
  .superRefine((rule, ctx) => {
    for (const { path, text } of templateStrings(rule.data)) {
      for (const problem of placeholderProblems(text, INBOUND_TEMPLATE_ROOTS, ["timestamp"]))
        ctx.addIssue({ code: "custom", path: ["data", ...path], message: problem });
    }
  });

export const InboundRulesSchema = z
  .object({ rules: z.array(InboundRuleSchema).max(200) })
  .superRefine((document, ctx) => {
    const seen = new Set<string>();
    document.rules.forEach((rule, index) => {
      if (seen.has(rule.eventType))
        ctx.addIssue({ code: "custom", path: ["rules", index, "eventType"], message: "has a rule already" });
      seen.add(rule.eventType);
    });
  });

export type InboundRule = z.output<typeof InboundRuleSchema>;
export type InboundRules = z.output<typeof InboundRulesSchema>;

/** The Bloomreach event as a rule's templates see it, in Bloomreach's own field names. */
export interface BloomreachEventView {
  event_type: string;
  customer_ids: Record<string, string>;
  properties: Record<string, unknown>;
  /** Unix seconds. */
  timestamp: number;
}

function resolveInbound({ root, path, filter }: Placeholder, event: BloomreachEventView): unknown {
  let value: unknown;
  if (root === "timestamp") value = path === undefined ? event.timestamp : undefined;
  else if (path !== undefined && root === "properties") value = readPath(event.properties, path);
  else if (path !== undefined && root === "customer_ids") value = readPath(event.customer_ids, path);
  return applyFilter(value, filter);
}

/** The Antavo event a rule makes of a Bloomreach event for the Antavo customer `customerId`. */
export function renderAntavoEvent(rule: InboundRule, event: BloomreachEventView, customerId: string): AntavoEventData {
  const data = renderValueWith(rule.data, (placeholder) => resolveInbound(placeholder, event));
  return { customer: customerId, action: rule.antavoAction, data: data as Record<string, unknown> };
}

export const findRule = (rules: InboundRule[], eventType: string) => rules.find((r) => r.eventType === eventType);
