/**
 * The state of one delivery batch as it moves through the stages (plan → enrich → claim → send →
 * settle → log), the delivery's dependencies and results, and the small helpers every stage shares.
 * Each stage is its own module beside this one; services/deliver.ts runs them in order.
 */
import type { Database } from "../../db/client";
import type { AttemptEntry } from "../../db/delivery-queries";
import type { Settlement } from "../../db/settlement-queries";
import type { CommandResult, EventOutcome } from "../../domain/delivery-outcome";
import type { RelayEvent } from "../../domain/event";
import type { PlanConfig } from "../../domain/plan-event";
import type { PlanReply } from "../../durable/customer-sync";
import type { RateLimiter } from "../../durable/rate-limiter";
import { logger } from "../../lib/logger";
import type { ConfigDeps } from "../config";
import type { AntavoApi, CommandSink, CustomerStore, DeliveryLog } from "./ports";

export interface DeliveryDeps extends ConfigDeps {
  db: Database;
  customerStore: CustomerStore;
  deliveryLog: DeliveryLog;
  rateLimiter: DurableObjectNamespace<RateLimiter>;
  fetch: typeof fetch;
  /** Waits before a rate-limited call; injectable so tests never sleep. */
  sleep?: (ms: number) => Promise<void>;
  /** The rate limiters' clock, Unix milliseconds (default Date.now); injectable with `sleep`. */
  nowMs?: () => number;
  /** Per-call timeout for Bloomreach and Antavo (the clients default to 10 s). */
  vendorTimeoutMs?: number;
  /** `background` (a backfill) takes only the Bloomreach calls live deliveries leave spare. */
  priority?: "live" | "background";
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
  /** How many commands each planned event has (0: nothing to send, e.g. every field unchanged). */
  planned?: Map<string, number>;
  /** False when the delivery log could not be written; the caller retries so the log catches up. */
  logged: boolean;
}

/** Concurrent Bloomreach calls per batch: Workers allow six open connections per invocation. */
export const CALL_CONCURRENCY = 4;
/** A claim can lead to another claim; bound the chain. */
export const MAX_CLAIM_ROUNDS = 5;

export interface Pipeline {
  /** Unix seconds. */
  now: () => number;
  config: PlanConfig;
  store: CustomerStore;
  sink: CommandSink;
  antavo?: AntavoApi;
  log: DeliveryLog;
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
  /**
   * Set when this batch's outcomes go to the settlement outbox with the log (one object round trip
   * per customer); unset, each object settles directly after the send (the Antavo direction).
   */
  outbox?: {
    /** The outbox rows waiting for the batch's customers, for their plan calls to carry. */
    waiting: Map<string, Settlement[]>;
    /** Rows a plan call carried to its object: deleted with the log write. */
    applied: number[];
  };
}

/** A fresh batch state: what the caller chose, and empty results for the stages to fill. */
export function newPipeline(
  fields: Pick<Pipeline, "now" | "config" | "store" | "sink" | "antavo" | "log" | "outbox">,
  jobs: DeliveryJob[],
): Pipeline {
  return {
    ...fields,
    jobs: new Map(jobs.map((j) => [j.event.id, j])),
    replies: new Map(),
    extra: new Map(),
    attempts: new Map(),
    notes: new Map(),
    mirrors: new Map(),
    commandResults: new Map(),
  };
}

export function byCustomer<T extends { customerId: string }>(items: T[]): Map<string, T[]> {
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
export async function perCustomer<T>(p: Pipeline, events: RelayEvent[], step: string, call: () => Promise<T>) {
  try {
    return await call();
  } catch (error) {
    const reason = `${step} failed: ${(error as Error).message}`;
    logger.error(reason, { customerId: events[0]?.customerId });
    for (const event of events) p.extra.set(event.id, [{ status: "retry", error: reason }]);
    return undefined;
  }
}

export function addAttempt(p: Pipeline, eventId: string, attempt: AttemptEntry) {
  p.attempts.set(eventId, [...(p.attempts.get(eventId) ?? []), attempt]);
}
