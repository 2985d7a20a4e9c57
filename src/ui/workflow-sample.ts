/**
 * "Try it"'s starting sample: something that fits the workflow, so the first click shows the
 * workflow doing its job. An event workflow gets an event of its own action, with the data its
 * filters test and its actions' `{{event.…}}` placeholders read; a date workflow has no event, so
 * it gets just a customer (planned as today's run), with e.g. a birth date of today's month and day.
 * A guess, edited freely by the admin; nothing here decides what the relay does.
 */

import { parsePlaceholders } from "../domain/workflow/templates";
import { isPrototypeKey } from "../lib/input-limits";
import { prettyJson } from "./format";

type Loose = Record<string, unknown>;

/** Keys the event context sets itself (engine.eventContext), never read from the data. */
const ENVELOPE = new Set(["id", "action", "customer", "created_at", "account", "external_id"]);

/** Data an Antavo event of that action usually carries (vendor-apis.md), for a realistic sample. */
const ACTION_DATA: Record<string, Loose> = {
  opt_in: { points: 50 },
  point_add: { points: 50, reason: "sample" },
  checkout: { transaction_id: "tx-1001", total: 49.9, items: [{ sku: "sku-1", quantity: 1, price: 49.9 }] },
  checkout_accept: { transaction_id: "tx-1001", total: 49.9, items: [{ sku: "sku-1", quantity: 1, price: 49.9 }] },
  tier_change: { tier: "Gold" },
  reward_claim: {
    reward_id: "rw-1",
    reward_name: "Sample reward",
    coupon: { code: "SAMPLE-CODE", value: 10, type: "fixed", expires_at: "2030-01-01" },
  },
};

/** A plausible value for a field the workflow reads, by its name. */
function guess(path: string): unknown {
  const last = path.split(".").pop() ?? path;
  if (/points|score|spendable|total|amount|value|count|quantity|price/i.test(last)) return 50;
  if (/date|_at$/i.test(last)) return "2026-01-01";
  if (/items/i.test(last)) return [{ sku: "sku-1", quantity: 1 }];
  if (/email/i.test(last)) return "sample.customer@example.com";
  return `sample ${last}`;
}

function setPath(target: Loose, path: string, value: unknown, overwrite = false) {
  const segments = path.split(".");
  if (segments.some((s) => s === "" || isPrototypeKey(s))) return;
  let node = target;
  for (const segment of segments.slice(0, -1)) {
    const next = node[segment];
    if (next !== undefined && (next === null || typeof next !== "object" || Array.isArray(next))) return;
    if (next === undefined) node[segment] = {};
    node = node[segment] as Loose;
  }
  const key = segments[segments.length - 1]!;
  if (overwrite || node[key] === undefined) node[key] = value;
}

/** A value that passes the filter, where one is easy to tell. */
function passing(filter: Loose, today: string): { value: unknown } | undefined {
  const { operator, value } = filter;
  if (operator === "equals" || operator === "contains") return { value };
  if (operator === "in" && Array.isArray(value) && value.length > 0) return { value: value[0] };
  if (operator === "greater_than" && typeof value === "number") return { value: value + 1 };
  if (operator === "less_than" && typeof value === "number") return { value: value - 1 };
  if (operator === "exists" && value !== false) return { value: "sample" };
  if (operator === "in_date") return { value: `1990-${today.slice(5, 10)}` };
  return undefined;
}

function placeholders(document: Loose): { root: string; path: string }[] {
  const out: { root: string; path: string }[] = [];
  const walk = (value: unknown) => {
    if (typeof value === "string") {
      for (const p of parsePlaceholders(value)) if (p.path) out.push({ root: p.root, path: p.path });
    } else if (value && typeof value === "object") for (const item of Object.values(value)) walk(item);
  };
  for (const action of Array.isArray(document.actions) ? (document.actions as Loose[]) : []) {
    walk(action?.properties);
    walk(action?.fields);
  }
  return out;
}

export function sampleFor(document: Loose, now: number): string {
  const trigger = (document.trigger ?? {}) as Loose;
  const dated = trigger.type === "date";
  const today = new Date(now * 1000).toISOString().slice(0, 10);
  const action = typeof trigger.action === "string" && trigger.action ? trigger.action : "opt_in";
  const customer: Loose = {
    id: "sample-customer-1",
    email: "sample.customer@example.com",
    first_name: "Sam",
    score: 120,
    spendable: 80,
    tiers: [{ name: "Silver" }],
  };
  // The action is the admin's text: a name such as `constructor` is not a sample of ours.
  const data: Loose = Object.hasOwn(ACTION_DATA, action) ? structuredClone(ACTION_DATA[action]!) : {};

  for (const filter of (Array.isArray(document.filters) ? document.filters : []) as Loose[]) {
    const attribute = typeof filter?.attribute === "string" ? filter.attribute : "";
    const pass = attribute ? passing(filter, today) : undefined;
    if (!pass) continue;
    if (filter.type === "customer_attribute") {
      // `tier` is read from tiers[0].name unless the snapshot has its own `tier`.
      if (attribute === "tier") customer.tiers = [{ name: pass.value }];
      else setPath(customer, attribute, pass.value, true);
    } else if (!dated) setPath(data, attribute, pass.value, true);
  }
  for (const { root, path } of placeholders(document)) {
    if (root === "customer") setPath(customer, path, guess(path));
    else if (root === "event" && !dated && !ENVELOPE.has(path.split(".")[0]!)) setPath(data, path, guess(path));
  }
  return prettyJson(dated ? { customer } : { action, customer, data });
}
