/**
 * The other way (DESIGN 4.4), the use cases around it: the rules (`GET/PUT /api/inbound`, cached
 * per isolate for the webhook's hot path), turning a validated Bloomreach webhook body into relay
 * events (refusing, before anything is stored, an event no rule covers), and the "Try it" preview
 * that shows the exact Antavo request a Bloomreach body would make.
 */
import type { Database } from "../db/client";
import { readMapping } from "../db/config-queries";
import { findCustomersByHardId } from "../db/customer-queries";
import { readInboundRules, writeInboundRules } from "../db/inbound-rule-queries";
import type { Mapping } from "../domain/config";
import type { RelayEvent } from "../domain/event";
import {
  type BloomreachEventView,
  findRule,
  type InboundRule,
  type InboundRules,
  renderAntavoEvent,
} from "../domain/inbound-rules";
import { type NormalisedEvent, normaliseEvent } from "../domain/normalise";
import { toHardIdValue } from "../domain/planner";
import { type ErrorIssue, RelayError } from "../lib/errors";
import type { ConfigDeps } from "./config";
import { getSettingsCached } from "./config";

export async function getInboundRules(deps: Pick<ConfigDeps, "db">): Promise<InboundRules> {
  return { rules: await readInboundRules(deps.db) };
}

export async function putInboundRules(deps: Pick<ConfigDeps, "db" | "now">, input: InboundRules) {
  await writeInboundRules(deps.db, input.rules, deps.now());
  inboundCache = undefined;
  return getInboundRules(deps);
}

/** What the webhook needs besides the body: the rules and the hard ID, kept a few seconds per isolate. */
const INBOUND_TTL_SECONDS = 5;
type InboundConfig = { rules: InboundRule[]; mapping: Mapping };
let inboundCache: { at: number; db: Database; value: Promise<InboundConfig> } | undefined;

function inboundConfigCached(deps: Pick<ConfigDeps, "db" | "now">): Promise<InboundConfig> {
  const now = deps.now();
  if (!inboundCache || inboundCache.db !== deps.db || now - inboundCache.at >= INBOUND_TTL_SECONDS) {
    const value = Promise.all([readInboundRules(deps.db), readMapping(deps.db)]).then(([rules, mapping]) => ({
      rules,
      mapping,
    }));
    inboundCache = { at: now, db: deps.db, value };
    value.catch(() => (inboundCache = undefined));
  }
  return inboundCache.value;
}

/** A webhook event as validated by routes/webhook/bloomreach-schema. */
export interface BloomreachInput {
  id?: string;
  event_type: string;
  customer_ids: Record<string, string>;
  properties?: Record<string, unknown>;
  timestamp?: number;
}

/**
 * The relay events of a Bloomreach webhook body, or a refusal of the whole request before anything
 * is stored: 422 `no_rule` naming each event type no rule covers, 422 `not_configured` without a
 * hard ID, 400 when an event lacks the hard ID among its `customer_ids`.
 */
export async function normaliseBloomreachEvents(
  deps: Pick<ConfigDeps, "db" | "now">,
  inputs: BloomreachInput[],
): Promise<NormalisedEvent[]> {
  const [{ rules, mapping }, settings] = await Promise.all([inboundConfigCached(deps), getSettingsCached(deps)]);
  const at = (index: number, field: string) => (inputs.length > 1 ? `events.${index}.${field}` : field);
  const missing: ErrorIssue[] = inputs.flatMap((input, index) =>
    findRule(rules, input.event_type)
      ? []
      : [{ path: at(index, "event_type"), message: `no inbound rule for "${input.event_type}"` }],
  );
  if (missing.length > 0) {
    const types = [...new Set(inputs.filter((i) => !findRule(rules, i.event_type)).map((i) => `"${i.event_type}"`))];
    throw new RelayError(
      "no_rule",
      `no inbound rule covers the Bloomreach event type ${types.join(", ")}: add one under Inbound from Bloomreach`,
      missing,
    );
  }
  const hardId = mapping.hardId;
  if (!hardId)
    throw new RelayError("not_configured", "the hard ID is not mapped yet, so no Antavo customer can be found");
  const issues: ErrorIssue[] = [];
  const values = inputs.map((input, index) => {
    const value = toHardIdValue(input.customer_ids[hardId.remoteId]);
    if (value === undefined)
      issues.push({
        path: at(index, `customer_ids.${hardId.remoteId}`),
        message: `is required: the hard ID (${hardId.remoteId}) finds the Antavo customer`,
      });
    return value;
  });
  if (issues.length > 0) throw new RelayError("validation_failed", "the webhook body is not valid", issues);
  const receivedAt = deps.now();
  return Promise.all(
    inputs.map((input, index) =>
      normaliseEvent(
        {
          // Namespaced, so a Bloomreach id never meets an Antavo event id in the log or the dedupe keys.
          ...(input.id !== undefined ? { id: `br-${input.id}` } : {}),
          action: input.event_type,
          customerId: values[index]!,
          data: input.properties ?? {},
          ...(input.timestamp !== undefined ? { createdAt: input.timestamp } : {}),
          bloomreach: { customerIds: input.customer_ids },
        },
        receivedAt,
        settings.dedupeWindowSeconds,
      ),
    ),
  );
}

/** The Bloomreach event as a rule's templates read it. */
export const bloomreachView = (event: RelayEvent): BloomreachEventView => ({
  event_type: event.action,
  customer_ids: event.bloomreach?.customerIds ?? {},
  properties: event.data,
  timestamp: event.createdAt,
});

/** How the mirror answered for one hard-ID value. */
export type CustomerMatch = { status: "found"; id: string } | { status: "unknown" | "ambiguous"; reason: string };

export async function matchCustomers(db: Database, mapping: Mapping, values: string[]) {
  const found = await findCustomersByHardId(db, values);
  const field = mapping.hardId?.loyaltyField ?? "the hard ID";
  return (value: string): CustomerMatch => {
    const ids = found.get(value) ?? [];
    if (ids.length === 1) return { status: "found", id: ids[0]! };
    if (ids.length === 0)
      return {
        status: "unknown",
        reason: `no customer in the mirror has ${field} "${value}": import the Antavo customers (POST /api/customers/import), then replay`,
      };
    return { status: "ambiguous", reason: `${ids.length} customers in the mirror have ${field} "${value}"` };
  };
}

/**
 * "Try it": the Antavo request a Bloomreach body would make, without sending or storing anything.
 * `rules` lets the page try rules before they are saved.
 */
export async function previewInbound(
  deps: Pick<ConfigDeps, "db" | "now"> & { antavoBaseUrl?: string },
  input: BloomreachInput,
  rules?: InboundRule[],
) {
  const [saved, mapping] = await Promise.all([
    rules ? Promise.resolve(rules) : readInboundRules(deps.db),
    readMapping(deps.db),
  ]);
  const rule = findRule(saved, input.event_type);
  if (!rule)
    throw new RelayError("no_rule", `no inbound rule covers the Bloomreach event type "${input.event_type}"`, [
      { path: "event.event_type", message: `no inbound rule for "${input.event_type}"` },
    ]);
  const remoteId = mapping.hardId?.remoteId;
  const value = remoteId ? toHardIdValue(input.customer_ids[remoteId]) : undefined;
  const match = value === undefined ? undefined : (await matchCustomers(deps.db, mapping, [value]))(value);
  const warnings: string[] = [];
  if (!remoteId) warnings.push("the hard ID is not mapped yet, so no Antavo customer can be found");
  else if (value === undefined) warnings.push(`the body has no customer_ids.${remoteId} (the hard ID)`);
  else if (match?.status !== "found") warnings.push(`${match!.reason}; the event would end dead`);
  const customer = match?.status === "found" ? match.id : "(the Antavo customer id)";
  const event = renderAntavoEvent(
    rule,
    bloomreachView({
      id: "preview",
      action: input.event_type,
      customerId: value ?? "?",
      data: input.properties ?? {},
      createdAt: input.timestamp ?? deps.now(),
      receivedAt: deps.now(),
      bloomreach: { customerIds: input.customer_ids },
    }),
    customer,
  );
  const base = (deps.antavoBaseUrl ?? "https://api.<environment>.antavo.com").replace(/\/+$/, "");
  return {
    rule,
    customer: match ?? { status: "unknown", reason: warnings[0] ?? "" },
    request: {
      method: "POST",
      url: `${base}/events`,
      headers: {
        "content-type": "application/json",
        date: "<signing time, YYYYMMDDTHHMMSSZ>",
        authorization:
          "ANTAVO-HMAC-SHA256 Credential=<API key>/<date>/<environment>/api/antavo_request, SignedHeaders=date;host, Signature=<…>",
      },
      body: event,
    },
    warnings,
  };
}
