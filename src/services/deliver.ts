/**
 * Delivery: takes a batch of events (from the queue consumer, sync mode or a replay) through the
 * customers' CustomerSync objects, performs pending reward claims, sends the commands of many
 * customers together in <= 50-command Bloomreach calls under the project's rate limit, records
 * each command's fate with its object, and writes the delivery log. It returns one outcome per
 * event; the caller turns them into ack / retry.
 *
 * Order of writes matters: Bloomreach's answer is recorded in the CustomerSync object before the
 * log and before any ack, so a crash after a successful call never sends the event again.
 */

import { budgetedAntavoClient } from "../antavo/budget";
import { type AntavoClient, createAntavoClient, type GetCustomerResult } from "../antavo/client";
import {
  type BatchResult,
  type BloomreachClient,
  createBloomreachClient,
  MAX_BATCH_COMMANDS,
} from "../bloomreach/client";
import { chunk, type Database } from "../db/client";
import { type AttemptEntry, type BatchSideWrites, type DeliveryEntry, writeDeliveryLog } from "../db/delivery-queries";
import type { Settings } from "../domain/config";
import { type CommandResult, combineOutcomes, type EventOutcome } from "../domain/delivery-outcome";
import type { RelayEvent } from "../domain/event";
import type { PlanConfig } from "../domain/plan-event";
import { MAX_DELIVERY_ATTEMPTS, retryDelaySeconds } from "../domain/retry-policy";
import type {
  ClaimResult,
  CustomerSync,
  OutgoingCommand,
  PlanCall,
  PlanReply,
  PlanResult,
  SettleRequest,
} from "../durable/customer-sync";
import type { RateLimiter } from "../durable/rate-limiter";
import { sha256Hex } from "../lib/encoding";
import { errorMessage, logger } from "../lib/logger";
import {
  type AntavoCredentials,
  type ConfigDeps,
  loadAntavoCredentials,
  loadBloomreachCredentials,
  loadPlanConfig,
  pauseBloomreachDelivery,
} from "./config";

export interface DeliveryDeps extends ConfigDeps {
  db: Database;
  customerSync: DurableObjectNamespace<CustomerSync>;
  rateLimiter: DurableObjectNamespace<RateLimiter>;
  fetch: typeof fetch;
  /** Waits before a rate-limited call; injectable so tests never sleep. */
  sleep?: (ms: number) => Promise<void>;
  /** The rate limiters' clock, Unix milliseconds (default Date.now); injectable with `sleep`. */
  nowMs?: () => number;
  /** Per-call timeout for Bloomreach and Antavo (the clients default to 10 s). */
  vendorTimeoutMs?: number;
}

export interface DeliveryJob {
  event: RelayEvent;
  /** 1 for the first try; the queue message's `attempts` afterwards. */
  attempt: number;
  /** An admin replay of a dead delivery. */
  replay?: boolean;
}

/** An event's outcome; a retry carries the delay the retry policy chose. */
export type DeliveryOutcome =
  | Exclude<EventOutcome, { status: "retry" }>
  | (Extract<EventOutcome, { status: "retry" }> & { delaySeconds: number });

export interface DeliveryReport {
  outcomes: Map<string, DeliveryOutcome>;
  /** False when the delivery log could not be written; the caller retries so the log catches up. */
  logged: boolean;
}

/** Concurrent Bloomreach calls per batch: Workers allow six open connections per invocation. */
const CALL_CONCURRENCY = 4;
/** A claim can lead to another claim; bound the chain. */
const MAX_CLAIM_ROUNDS = 5;

interface Pipeline {
  deps: DeliveryDeps;
  config: PlanConfig;
  /** A hash of `config`: objects cache the config by it. */
  configVersion: string;
  bloomreach: BloomreachClient;
  projectToken: string;
  antavo?: AntavoClient;
  jobs: Map<string, DeliveryJob>;
  replies: Map<string, PlanReply>;
  /** Failures that decide an event before or besides its commands (enrichment, claims). */
  extra: Map<string, CommandResult[]>;
  attempts: Map<string, AttemptEntry[]>;
  /** What the log should say about an event besides its plan's warnings. */
  notes: Map<string, string[]>;
  /** Customers whose snapshot changed, for the D1 mirror. */
  mirrors: Map<string, Record<string, unknown>>;
  commandResults: Map<string, CommandResult>;
}

export async function deliverEvents(deps: DeliveryDeps, jobs: DeliveryJob[]): Promise<DeliveryReport> {
  const now = deps.now();
  const [credentials, config, antavoCredentials] = await Promise.all([
    loadBloomreachCredentials(deps),
    loadPlanConfig(deps),
    loadAntavoCredentials(deps),
  ]);

  if (!credentials || credentials.paused) {
    // Nothing can be sent: park the events (acked, logged as paused) until the connection is saved.
    const error = credentials
      ? `paused: ${credentials.pausedReason ?? "Bloomreach refused the credentials"}`
      : "the Bloomreach connection is not configured";
    const outcomes = new Map(jobs.map((j) => [j.event.id, { status: "paused", error } as DeliveryOutcome]));
    const entries = jobs.map(
      (j): DeliveryEntry => ({
        eventId: j.event.id,
        customerId: j.event.customerId,
        action: j.event.action,
        status: "paused",
        commands: [],
        lastError: error,
        attempts: [],
      }),
    );
    return { outcomes, logged: await tryLog(deps.db, entries, now) };
  }

  const pipeline: Pipeline = {
    deps,
    config,
    configVersion: await sha256Hex(JSON.stringify(config)),
    bloomreach: createBloomreachClient(credentials, { fetch: deps.fetch, timeoutMs: deps.vendorTimeoutMs }),
    projectToken: credentials.projectToken,
    ...(antavoCredentials ? { antavo: antavoClientFor(deps, antavoCredentials, config.settings) } : {}),
    jobs: new Map(jobs.map((j) => [j.event.id, j])),
    replies: new Map(),
    extra: new Map(),
    attempts: new Map(),
    notes: new Map(),
    mirrors: new Map(),
    commandResults: new Map(),
  };

  await planAll(pipeline, now);
  await performClaims(pipeline);
  const paused = await sendCommands(pipeline);
  if (paused) await pauseBloomreachDelivery(deps, paused);
  await settleAll(pipeline);
  return finish(pipeline, now);
}

const sleepFor = (deps: DeliveryDeps) =>
  deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

/** The Antavo client under the budget every Antavo call shares, one per Antavo API host. */
export function antavoClientFor(deps: DeliveryDeps, credentials: AntavoCredentials, settings: Settings): AntavoClient {
  const client = createAntavoClient(credentials, { fetch: deps.fetch, timeoutMs: deps.vendorTimeoutMs });
  const limiter = deps.rateLimiter.get(deps.rateLimiter.idFromName(`antavo:${new URL(credentials.baseUrl).host}`));
  const clock = deps.nowMs ?? Date.now;
  const perSecond = settings.antavoRateLimitPerMinute / 60;
  return budgetedAntavoClient(
    client,
    { reserve: () => limiter.reserve(perSecond, clock()), backOff: (ms) => limiter.backOff(ms, clock()) },
    sleepFor(deps),
  );
}

// ---- planning --------------------------------------------------------------------------------

/** The object's RPC surface. (Workers' RPC typings reduce methods taking `unknown` JSON to never.) */
export type CustomerSyncApi = Pick<CustomerSync, "plan" | "completeClaims" | "settle" | "inspect">;

export function customerSyncStub(namespace: DurableObjectNamespace<CustomerSync>, customerId: string): CustomerSyncApi {
  return namespace.get(namespace.idFromName(customerId)) as unknown as CustomerSyncApi;
}

const stubFor = (deps: DeliveryDeps, customerId: string) => customerSyncStub(deps.customerSync, customerId);

function byCustomer<T extends { customerId: string }>(items: T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(item.customerId);
    if (group) group.push(item);
    else groups.set(item.customerId, [item]);
  }
  return groups;
}

/**
 * Runs one customer's object call; a call that throws fails that customer's events only (they are
 * retried, and dead-lettered with the reason once the budget is spent), never the batch (invariant 9).
 */
async function perCustomer<T>(p: Pipeline, events: RelayEvent[], step: string, call: () => Promise<T>) {
  try {
    return await call();
  } catch (error) {
    const reason = `${step} failed: ${(error as Error).message}`;
    logger.error(reason, { customerId: events[0]?.customerId });
    for (const event of events) p.extra.set(event.id, [{ status: "retry", error: reason }]);
    return undefined;
  }
}

async function planAll(p: Pipeline, now: number) {
  const events = [...p.jobs.values()].map((j) => j.event);
  const replay = [...p.jobs.values()].filter((j) => j.replay).map((j) => j.event.id);
  // Each plan answers the events' replies, and the customer's snapshot when it changed: that goes
  // to the D1 mirror with the delivery log, in one batch for the whole consumer batch.
  const plan = async (
    customerId: string,
    batch: RelayEvent[],
    request: { canEnrich: boolean; enrichedAt?: number },
  ) => {
    const result = await perCustomer(p, batch, "planning", () =>
      planWithConfig(p, customerId, { events: batch, replay, now, ...request }),
    );
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

  // Enrichment: one Antavo lookup per customer, then the object plans with the fuller snapshot and
  // remembers the lookup, so the customer is not looked up again within the TTL (DESIGN 4.2).
  await Promise.all(
    [...byCustomer(needing)].map(async ([customerId, batch]) => {
      const started = Date.now();
      const result = await lookUpCustomer(p.antavo!, customerId);
      const log = (outcome: string, error?: string) => {
        for (const event of batch) {
          addAttempt(p, event.id, {
            attempt: p.jobs.get(event.id)!.attempt,
            target: "antavo",
            outcome,
            ...(error ? { error } : {}),
            request: `GET /customers/${customerId}`,
            durationMs: Date.now() - started,
            startedAt: now,
          });
        }
      };
      if (result.status === "retry") {
        log("retry", result.error);
        for (const event of batch) {
          p.extra.set(event.id, [
            {
              status: "retry",
              error: `enrichment from Antavo: ${result.error}`,
              ...(result.retryAfterSeconds ? { retryAfterSeconds: result.retryAfterSeconds } : {}),
            },
          ]);
        }
        return;
      }
      let enriched = batch;
      if (result.status === "found") {
        log("delivered");
        enriched = batch.map((event) => ({
          ...event,
          customer: { ...result.customer, ...(event.customer ?? {}), id: customerId },
        }));
      } else {
        // Unknown to Antavo, or the lookup was refused: plan with what the event carries rather than
        // lose it, and do not ask again within the TTL.
        log("dead", result.status === "not_found" ? "customer not found in Antavo" : result.error);
      }
      for (const reply of (await plan(customerId, enriched, { canEnrich: false, enrichedAt: now })) ?? []) {
        p.replies.set(reply.eventId, reply);
      }
    }),
  );
}

/**
 * Which config version each customer's object was last sent from this isolate: the config travels
 * only to objects that may not hold it (a fresh object, or one evicted since, answers needsConfig).
 */
const configSent = new Map<string, string>();
const MAX_CONFIG_SENT = 50_000;

async function planWithConfig(p: Pipeline, customerId: string, call: Omit<PlanCall, "config" | "configVersion">) {
  const stub = stubFor(p.deps, customerId);
  const configVersion = p.configVersion;
  const known = configSent.get(customerId) === configVersion;
  let answer = await stub.plan({ ...call, configVersion, ...(known ? {} : { config: p.config }) });
  if ("needsConfig" in answer) answer = await stub.plan({ ...call, configVersion, config: p.config });
  if (configSent.size >= MAX_CONFIG_SENT) configSent.clear();
  configSent.set(customerId, configVersion);
  return answer as PlanResult;
}

/**
 * Concurrent deliveries in one isolate (consumer batches, sync-mode webhooks) that need the same
 * customer share one lookup.
 */
const lookups = new Map<string, Promise<GetCustomerResult>>();

function lookUpCustomer(antavo: AntavoClient, customerId: string): Promise<GetCustomerResult> {
  let lookup = lookups.get(customerId);
  if (!lookup) {
    lookup = antavo.getCustomer(customerId).finally(() => lookups.delete(customerId));
    lookups.set(customerId, lookup);
  }
  return lookup;
}

// ---- reward claims ---------------------------------------------------------------------------

async function performClaims(p: Pipeline) {
  for (let round = 0; round < MAX_CLAIM_ROUNDS; round++) {
    const due = [...p.replies.values()].flatMap((reply) => reply.claims.map((claim) => ({ reply, claim })));
    if (due.length === 0) return;
    if (!p.antavo) {
      for (const { reply } of due)
        p.extra.set(reply.eventId, [{ status: "retry", error: "reward claim waits for the Antavo API connection" }]);
      return;
    }
    const completed: (ClaimResult & { customerId: string })[] = [];
    for (const { reply, claim } of due) {
      const started = Date.now();
      const result = await p.antavo.claimReward(claim.action.customerId, claim.action.rewardId, {
        free: claim.action.free,
      });
      const job = p.jobs.get(reply.eventId)!;
      addAttempt(p, reply.eventId, {
        attempt: job.attempt,
        target: "antavo",
        outcome: result.status === "claimed" ? "delivered" : result.status,
        ...(result.status === "claimed" ? { response: JSON.stringify(result.claim) } : { error: result.error }),
        request: `claim reward ${claim.action.rewardId}${claim.action.free ? " (free)" : ""}`,
        durationMs: Date.now() - started,
        startedAt: p.deps.now(),
      });
      if (result.status === "retry") {
        p.extra.set(reply.eventId, [
          {
            status: "retry",
            error: `reward claim: ${result.error}`,
            ...(result.retryAfterSeconds ? { retryAfterSeconds: result.retryAfterSeconds } : {}),
          },
        ]);
        continue;
      }
      completed.push({
        eventId: reply.eventId,
        customerId: job.event.customerId,
        key: claim.key,
        result:
          result.status === "claimed"
            ? { status: "claimed", answer: result.claim }
            : { status: "dead", error: result.error },
      });
    }
    if (completed.length === 0) return;
    await Promise.all(
      [...byCustomer(completed)].map(async ([customerId, results]) => {
        const events = results.map((r) => p.jobs.get(r.eventId)!.event);
        const replies = await perCustomer(p, events, "recording the reward claim", () =>
          stubFor(p.deps, customerId).completeClaims(p.config, results),
        );
        for (const reply of replies ?? []) p.replies.set(reply.eventId, reply);
      }),
    );
    // A claim that must be retried waits for the next attempt; only completed ones lead on.
    for (const [eventId] of p.extra) {
      const reply = p.replies.get(eventId);
      if (reply) p.replies.set(eventId, { ...reply, claims: [] });
    }
  }
}

// ---- sending ---------------------------------------------------------------------------------

/** Sends every pending command; answers the reason when Bloomreach refused the credentials. */
async function sendCommands(p: Pipeline): Promise<string | undefined> {
  const calls = chunk(outgoingInOrder(p), MAX_BATCH_COMMANDS);
  const after = callDependencies(calls);
  const done = calls.map(() => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  });
  let pausedReason: string | undefined;
  const limiter = p.deps.rateLimiter.get(p.deps.rateLimiter.idFromName(p.projectToken));
  const perSecond = p.config.settings.rateLimitPerSecond;
  const sleep = sleepFor(p.deps);
  const clock = p.deps.nowMs ?? Date.now;

  let next = 0;
  const worker = async () => {
    while (next < calls.length) {
      const index = next++;
      const call = calls[index]!;
      // A customer whose commands span two calls gets them in order: the later call waits.
      await Promise.all(after[index]!.map((i) => done[i]!.promise));
      if (pausedReason) {
        for (const { command } of call) p.commandResults.set(command.id, { status: "paused", error: pausedReason });
      } else {
        const wait = await limiter.reserve(perSecond, clock());
        if (wait > 0) await sleep(wait);
        const startedAt = p.deps.now();
        const result = await p.bloomreach.sendBatch(call.map((c) => c.command.command));
        if (result.authFailure)
          pausedReason = `${result.authFailure.status} from Bloomreach: ${result.authFailure.message}`;
        recordCall(p, call, result, startedAt, pausedReason);
      }
      done[index]!.resolve();
    }
  };
  await Promise.all(Array.from({ length: Math.min(CALL_CONCURRENCY, calls.length) }, worker));
  return pausedReason;
}

type Outgoing = { eventId: string; customerId: string; command: OutgoingCommand };

/**
 * Each customer's pending commands together, in event-time order, customers one after another in
 * the order of the batch (not of the objects' answers, which arrive in any order).
 */
function outgoingInOrder(p: Pipeline): Outgoing[] {
  const replies = [...p.jobs.values()].flatMap(({ event }) => {
    const reply = p.replies.get(event.id);
    return reply ? [{ reply, event }] : [];
  });
  const byCustomerId = byCustomer(replies.map((r) => ({ ...r, customerId: r.event.customerId })));
  const outgoing: Outgoing[] = [];
  for (const [customerId, items] of byCustomerId) {
    items.sort((a, b) => a.event.createdAt - b.event.createdAt || a.event.receivedAt - b.event.receivedAt);
    for (const { reply } of items)
      for (const command of reply.pending) outgoing.push({ eventId: reply.eventId, customerId, command });
  }
  return outgoing;
}

/** For each call, the earlier calls it must follow: those carrying commands of the same customer. */
function callDependencies(calls: Outgoing[][]): number[][] {
  const lastCallOf = new Map<string, number>();
  return calls.map((call, index) => {
    const customers = new Set(call.map((c) => c.customerId));
    const earlier = [...customers].map((c) => lastCallOf.get(c)).filter((i): i is number => i !== undefined);
    for (const customer of customers) lastCallOf.set(customer, index);
    return [...new Set(earlier)];
  });
}

/**
 * Invariant 10: a command whose fate Bloomreach's answer left unknown is resent only when that is
 * harmless: customer properties carry their `update_timestamp`, so a second copy changes nothing.
 * An event is never resent blindly (it would be tracked twice); it stays `outcome_unknown`.
 */
function resendIfHarmless(command: OutgoingCommand, outcome: CommandResult): CommandResult {
  if (outcome.status !== "outcome_unknown" || command.command.name !== "customers") return outcome;
  return { status: "retry", error: `${outcome.error}; customer properties are resent (harmless)` };
}

function recordCall(p: Pipeline, call: Outgoing[], result: BatchResult, startedAt: number, pausedReason?: string) {
  const perEvent = new Map<string, { commands: OutgoingCommand[]; outcomes: CommandResult[] }>();
  call.forEach(({ eventId, command }, index) => {
    const outcome = result.outcomes[index] ?? { status: "retry" as const, error: "no result for the command" };
    const commandResult: CommandResult = result.authFailure
      ? { status: "paused", error: pausedReason! }
      : resendIfHarmless(command, outcome);
    p.commandResults.set(command.id, commandResult);
    const entry = perEvent.get(eventId) ?? { commands: [], outcomes: [] };
    entry.commands.push(command);
    entry.outcomes.push(commandResult);
    perEvent.set(eventId, entry);
  });
  for (const [eventId, { commands, outcomes }] of perEvent) {
    const combined = combineOutcomes(outcomes);
    addAttempt(p, eventId, {
      attempt: p.jobs.get(eventId)!.attempt,
      target: "bloomreach",
      outcome: combined.status,
      ...(result.httpStatus !== undefined ? { httpStatus: result.httpStatus } : {}),
      ...(combined.status !== "delivered" ? { error: combined.error } : {}),
      request: JSON.stringify(commands.map((c) => c.command)),
      // The event's own results; the raw body only when the call failed as a whole (it holds the
      // reason), so a healthy batch is not stored once per event it carried.
      response: JSON.stringify({
        httpStatus: result.httpStatus,
        results: outcomes,
        batchSize: call.length,
        ...(result.httpStatus !== 200 && result.responseBody ? { body: result.responseBody } : {}),
      }),
      durationMs: result.durationMs,
      startedAt,
    });
  }
}

function addAttempt(p: Pipeline, eventId: string, attempt: AttemptEntry) {
  p.attempts.set(eventId, [...(p.attempts.get(eventId) ?? []), attempt]);
}

// ---- settling and logging --------------------------------------------------------------------

async function settleAll(p: Pipeline) {
  const settles: (SettleRequest & { customerId: string })[] = [];
  for (const reply of p.replies.values()) {
    if (reply.pending.length === 0) continue;
    const delivered: string[] = [];
    const dead: { id: string; error: string }[] = [];
    const unknown: { id: string; error: string }[] = [];
    for (const command of reply.pending) {
      const result = p.commandResults.get(command.id);
      if (result?.status === "delivered") delivered.push(command.id);
      if (result?.status === "dead") dead.push({ id: command.id, error: result.error });
      if (result?.status === "outcome_unknown") unknown.push({ id: command.id, error: result.error });
    }
    if (delivered.length + dead.length + unknown.length > 0)
      settles.push({
        eventId: reply.eventId,
        customerId: p.jobs.get(reply.eventId)!.event.customerId,
        delivered,
        dead,
        unknown,
      });
  }
  await Promise.all(
    [...byCustomer(settles)].map(async ([customerId, batch]) => {
      try {
        await stubFor(p.deps, customerId).settle(batch);
      } catch (error) {
        // Bloomreach has the commands: the events stay delivered (a resend would duplicate them),
        // and the log says the object could not record it.
        const note = `the customer's object could not record the outcome: ${(error as Error).message}`;
        logger.error(note, { customerId });
        for (const { eventId } of batch) p.notes.set(eventId, [...(p.notes.get(eventId) ?? []), note]);
      }
    }),
  );
}

function eventOutcome(p: Pipeline, eventId: string): EventOutcome {
  const reply = p.replies.get(eventId);
  const extra = p.extra.get(eventId) ?? [];
  if (!reply) return combineOutcomes(extra);
  if (reply.kind === "settled" && extra.length === 0) return reply.outcome!;
  return combineOutcomes([
    ...extra,
    ...reply.pending.map((c) => p.commandResults.get(c.id) ?? { status: "retry" as const, error: "not sent" }),
    ...reply.refused.map((r) => ({ status: "dead" as const, error: r.error })),
    ...reply.unknown.map((r) => ({ status: "outcome_unknown" as const, error: r.error })),
  ]);
}

/** Retries are scheduled by the retry policy until its budget is spent; then the event is dead. */
function schedule(outcome: EventOutcome, attempt: number): DeliveryOutcome {
  if (outcome.status !== "retry") return outcome;
  if (attempt >= MAX_DELIVERY_ATTEMPTS)
    return { status: "dead", error: `gave up after ${attempt} attempts: ${outcome.error}` };
  return { ...outcome, delaySeconds: retryDelaySeconds(attempt, { retryAfterSeconds: outcome.retryAfterSeconds }) };
}

async function finish(p: Pipeline, now: number): Promise<DeliveryReport> {
  const outcomes = new Map<string, DeliveryOutcome>();
  const entries: DeliveryEntry[] = [];
  for (const [eventId, job] of p.jobs) {
    const outcome = schedule(eventOutcome(p, eventId), job.attempt);
    outcomes.set(eventId, outcome);
    entries.push({
      eventId,
      customerId: job.event.customerId,
      action: job.event.action,
      status: outcome.status === "retry" ? "retrying" : outcome.status,
      commands: (p.replies.get(eventId)?.commands ?? []).map(({ id, command, source }) => ({ id, source, command })),
      ...(outcome.status !== "delivered" ? { lastError: outcome.error } : {}),
      ...(outcome.status === "retry" ? { nextAttemptAt: now + outcome.delaySeconds } : {}),
      warnings: [...(p.replies.get(eventId)?.warnings ?? []), ...(p.notes.get(eventId) ?? [])],
      attempts: p.attempts.get(eventId) ?? [],
    });
  }
  const ran = new Set<string>();
  for (const reply of p.replies.values())
    for (const { source } of reply.pending) if (source.kind === "workflow") ran.add(source.workflowId);
  return { outcomes, logged: await tryLog(p.deps.db, entries, now, { mirrors: p.mirrors, workflowsRun: [...ran] }) };
}

/** The log, the mirror and the workflows' last runs: one D1 batch for the whole delivery batch. */
async function tryLog(
  db: Database,
  entries: DeliveryEntry[],
  now: number,
  side: BatchSideWrites = {},
): Promise<boolean> {
  try {
    await writeDeliveryLog(db, entries, now, side);
    return true;
  } catch (error) {
    logger.error("delivery log write failed", { error: errorMessage(error), events: entries.length });
    return false;
  }
}
