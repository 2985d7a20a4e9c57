/**
 * The ports the delivery stages work through, built once per batch from the delivery's deps:
 * the customers' objects (CustomerStore), a destination for planned commands (CommandSink:
 * Bloomreach's batch API, rate-limited per project, or Antavo's events API under the shared Antavo
 * budget for the other direction), the Antavo API, and the delivery log. A new destination is a new
 * sink, not a copy of the pipeline.
 */
import { type AntavoClient, MAX_BULK_EVENTS } from "../../antavo/client";
import {
  type BatchResult,
  type BloomreachCredentials,
  createBloomreachClient,
  MAX_BATCH_COMMANDS,
} from "../../bloomreach/client";
import type { Database } from "../../db/client";
import { type BatchSideWrites, type DeliveryEntry, writeDeliveryLog } from "../../db/delivery-queries";
import type { AntavoEventData, BloomreachCommand, RelayCommand } from "../../domain/commands";
import type { Settings } from "../../domain/config";
import type { PlanConfig } from "../../domain/plan-event";
import type {
  AntavoPlanRequest,
  ClaimResult,
  ClaimStart,
  CustomerSync,
  PlanAnswer,
  PlanCall,
  PlanReply,
  SettleRequest,
} from "../../durable/customer-sync";
import type { DeliveryDeps } from "./batch";

/** Each customer's CustomerSync object: the single writer of that customer's state. */
export interface CustomerStore {
  plan(customerId: string, call: PlanCall): Promise<PlanAnswer>;
  /** Takes the claims before Antavo is called (each answered go, busy or done), with the replies it changed. */
  startClaims(
    customerId: string,
    requests: { eventId: string; key: string }[],
    now: number,
  ): Promise<{ starts: ClaimStart[]; replies: PlanReply[] }>;
  completeClaims(customerId: string, config: PlanConfig, results: ClaimResult[]): Promise<PlanReply[]>;
  settle(customerId: string, results: SettleRequest[]): Promise<void>;
  /** The other direction: records the customer's Antavo events and marks what goes out in flight. */
  planAntavo(customerId: string, request: AntavoPlanRequest): Promise<PlanReply[]>;
  /** Erases the customer's object (DESIGN 4.6); answers the snapshot it held. */
  erase(customerId: string, at: number): Promise<{ snapshot?: Record<string, unknown> }>;
}

/**
 * Where planned commands go: at most `maxCommands` a call, one outcome per command. A vendor's
 * failure is an outcome; what throws (the rate limiter's object) the send stage turns into a retry.
 */
export interface CommandSink {
  readonly name: string;
  /** Whose API the attempts in the log name. */
  readonly target: "bloomreach" | "antavo";
  readonly maxCommands: number;
  /**
   * The destination has no idempotency key and an unknown outcome must never be resent: the object
   * marks commands in flight before the call, and a retry outcome releases them (DESIGN 4.4).
   */
  readonly guardsInFlight?: boolean;
  /** Waits for the destination's rate limit, then sends. */
  send(commands: RelayCommand[]): Promise<BatchResult>;
}

export type AntavoApi = AntavoClient;

export interface DeliveryLog {
  write(entries: DeliveryEntry[], now: number, side?: BatchSideWrites): Promise<void>;
}

/** The object's RPC surface. (Workers' RPC typings reduce methods taking `unknown` JSON to never.) */
type CustomerSyncApi = Pick<
  CustomerSync,
  "plan" | "startClaims" | "completeClaims" | "settle" | "inspect" | "planAntavo" | "erase"
>;

function customerSyncStub(namespace: DurableObjectNamespace<CustomerSync>, customerId: string): CustomerSyncApi {
  return namespace.get(namespace.idFromName(customerId)) as unknown as CustomerSyncApi;
}

export function customerStore(namespace: DurableObjectNamespace<CustomerSync>): CustomerStore {
  return {
    plan: (customerId, call) => customerSyncStub(namespace, customerId).plan(call),
    startClaims: (customerId, requests, now) => customerSyncStub(namespace, customerId).startClaims(requests, now),
    completeClaims: (customerId, config, results) =>
      customerSyncStub(namespace, customerId).completeClaims(config, results),
    settle: (customerId, results) => customerSyncStub(namespace, customerId).settle(results),
    planAntavo: (customerId, request) => customerSyncStub(namespace, customerId).planAntavo(request),
    erase: (customerId, at) => customerSyncStub(namespace, customerId).erase(at),
  };
}

export const sleepFor = (deps: Pick<DeliveryDeps, "sleep">) =>
  deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

/** The part of the project's burst a background job (a backfill) leaves for live deliveries. */
export const LIVE_SHARE = 0.5;
const BACKGROUND_ASKS = 20;

/**
 * Bloomreach's batch endpoint under the project's calls-per-second budget, shared by all consumers.
 * Background work (a backfill) asks for spare permits only, so live webhooks keep their latency.
 */
export function bloomreachSink(
  deps: DeliveryDeps,
  credentials: BloomreachCredentials,
  settings: Settings,
): CommandSink {
  const client = createBloomreachClient(credentials, { fetch: deps.fetch, timeoutMs: deps.vendorTimeoutMs });
  const limiter = deps.rateLimiter.get(deps.rateLimiter.idFromName(credentials.projectToken));
  const clock = deps.nowMs ?? Date.now;
  const sleep = sleepFor(deps);
  const perSecond = settings.rateLimitPerSecond;
  return {
    name: "Bloomreach",
    target: "bloomreach",
    maxCommands: MAX_BATCH_COMMANDS,
    async send(commands) {
      const batch = commands.map(bloomreachOnly);
      if (deps.priority === "background") {
        // A backfill takes only the calls live deliveries leave spare; after a few refusals it
        // queues like any caller, so it cannot be starved for ever either.
        for (let asked = 0; asked < BACKGROUND_ASKS; asked++) {
          const spare = await limiter.reserveSpare(perSecond, LIVE_SHARE, clock());
          if (spare.granted) {
            if (spare.waitMs > 0) await sleep(spare.waitMs);
            return client.sendBatch(batch);
          }
          await sleep(spare.waitMs);
        }
      }
      const wait = await limiter.reserve(perSecond, clock());
      if (wait > 0) await sleep(wait);
      return client.sendBatch(batch);
    },
  };
}

function bloomreachOnly(command: RelayCommand): BloomreachCommand {
  if (command.name === "antavo/events") throw new TypeError("an Antavo event reached the Bloomreach sink");
  return command;
}

/**
 * Antavo's events API for the other direction (DESIGN 4.4): `POST /events` for one event,
 * `POST /events/bulk` for up to 50, each call one permit of the budget every Antavo call shares.
 */
export function antavoEventsSink(antavo: AntavoApi): CommandSink {
  return {
    name: "Antavo",
    target: "antavo",
    maxCommands: MAX_BULK_EVENTS,
    guardsInFlight: true,
    send: (commands) => antavo.sendEvents(commands.map(antavoOnly)),
  };
}

function antavoOnly(command: RelayCommand): AntavoEventData {
  if (command.name !== "antavo/events") throw new TypeError("a Bloomreach command reached the Antavo sink");
  return command.data;
}

export const deliveryLog = (db: Database): DeliveryLog => ({
  write: (entries, now, side) => writeDeliveryLog(db, entries, now, side),
});
