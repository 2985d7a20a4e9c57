/**
 * Stage 1, plan: each customer's object plans its events (one call per customer, the config sent
 * only to objects that may lack it, and with only the workflows those events can trigger); events
 * whose customer lacks mapped fields go through enrichment and are planned again with Antavo's record.
 */
import type { RelayEvent } from "../../domain/event";
import { type PlanConfig, planConfigFor } from "../../domain/plan-event";
import type { PlanCall, PlanReply, PlanResult } from "../../durable/customer-sync";
import { sha256Hex } from "../../lib/encoding";
import { byCustomer, type Pipeline, perCustomer } from "./batch";
import { enrichThenPlan } from "./enrich";

/** Plans one customer's events; answers the replies (undefined when the object call failed). */
export type PlanCustomer = (
  customerId: string,
  batch: RelayEvent[],
  request: { canEnrich: boolean; enrichedAt?: number },
) => Promise<PlanReply[] | undefined>;

export async function planAll(p: Pipeline, now: number) {
  const events = [...p.jobs.values()].map((j) => j.event);
  const replay = [...p.jobs.values()].filter((j) => j.replay).map((j) => j.event.id);
  // Each plan answers the events' replies, and the customer's snapshot when it changed: that goes
  // to the D1 mirror with the delivery log, in one batch for the whole consumer batch.
  // A customer's first plan call carries the outcomes waiting for it in the outbox (a second call,
  // after enrichment, need not carry them again).
  const plan: PlanCustomer = async (customerId, batch, request) => {
    const waiting = p.outbox?.waiting.get(customerId) ?? [];
    p.outbox?.waiting.delete(customerId);
    const settlements = waiting.length > 0 ? { settlements: waiting.map((s) => s.request) } : {};
    const result = await perCustomer(p, batch, "planning", () =>
      planWithConfig(p, customerId, { events: batch, replay, now, ...request, ...settlements }),
    );
    if (result && p.outbox) p.outbox.applied.push(...waiting.map((s) => s.id));
    if (result?.mirror) p.mirrors.set(customerId, result.mirror);
    return result?.replies;
  };

  const needing: RelayEvent[] = [];
  await Promise.all(
    [...byCustomer(events)].map(async ([customerId, batch]) => {
      for (const reply of (await plan(customerId, batch, { canEnrich: p.antavo !== undefined })) ?? []) {
        if (reply.kind === "needs_customer") needing.push(p.jobs.get(reply.eventId)!.event);
        else p.replies.set(reply.eventId, reply);
      }
    }),
  );
  if (needing.length === 0) return;
  await enrichThenPlan(p, needing, plan, now);
}

/**
 * Which config version each customer's object was last sent from this isolate, and when: the
 * config travels only to objects that may not hold it. An idle object is evicted (locally after
 * about 10 s, on Cloudflare after a minute or two) and forgets it, and a second call to send it
 * costs more than the config's bytes: so it also goes to an object not called lately.
 */
const configSent = new Map<string, { version: string; at: number }>();
const MAX_CONFIG_SENT = 50_000;
const CONFIG_HELD_SECONDS = 8;

async function planWithConfig(p: Pipeline, customerId: string, call: Omit<PlanCall, "config" | "configVersion">) {
  const { config, version: configVersion } = await versionedConfigFor(p.config, call.events);
  const sent = configSent.get(customerId);
  const known = sent?.version === configVersion && p.now() - sent.at < CONFIG_HELD_SECONDS;
  let answer = await p.store.plan(customerId, { ...call, configVersion, ...(known ? {} : { config }) });
  if ("needsConfig" in answer) answer = await p.store.plan(customerId, { ...call, configVersion, config });
  if (configSent.size >= MAX_CONFIG_SENT) configSent.clear();
  configSent.set(customerId, { version: configVersion, at: p.now() });
  return answer as PlanResult;
}

type VersionedConfig = { config: PlanConfig; version: string };
const versions = new WeakMap<PlanConfig, Map<string, Promise<VersionedConfig>>>();

/**
 * The config a call carries (only the workflows its events can trigger) and its version, the hash
 * the object caches it by: computed once per batch for each distinct set of workflows.
 */
function versionedConfigFor(whole: PlanConfig, events: readonly RelayEvent[]): Promise<VersionedConfig> {
  const config = planConfigFor(whole, events);
  const key = config.workflows.map((w) => w.id).join(",");
  let byWorkflows = versions.get(whole);
  if (!byWorkflows) {
    byWorkflows = new Map();
    versions.set(whole, byWorkflows);
  }
  let versioned = byWorkflows.get(key);
  if (!versioned) {
    versioned = sha256Hex(JSON.stringify(config)).then((version) => ({ config, version }));
    byWorkflows.set(key, versioned);
  }
  return versioned;
}
