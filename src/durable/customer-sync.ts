/**
 * CustomerSync: one Durable Object per Antavo customer, the single writer for that customer.
 * It recognises events already handled, keeps the last synced value and time of each field (so
 * only changes go out and an older update never overwrites a newer one), remembers the commands
 * and reward claims planned but not yet done (a retried message resends exactly those, and a claim
 * Antavo confirmed is never made twice), and mirrors the customer into D1. It makes no network
 * calls, so each call runs without interleaving.
 */
import { DurableObject } from "cloudflare:workers";
import * as v from "valibot";
import { openDatabase } from "../db/client";
import { mirrorRow, upsertCustomerStatement } from "../db/customer-queries";
import type { BloomreachCommand, CommandSource, PlannedCommand } from "../domain/commands";
import { type CommandResult, combineOutcomes, type EventOutcome } from "../domain/delivery-outcome";
import { type RelayEvent, RelayEventSchema } from "../domain/event";
import { diffFields, type FieldState, forgetFields } from "../domain/field-sync";
import { continueAfterClaim, type PendingClaim, type PlanConfig, planEvent } from "../domain/plan-event";
import { lacksMappedField, mergeSnapshot, resolveCustomerIds } from "../domain/planner";

export interface OutgoingCommand {
  /** `<eventId>#<n>`: identifies the command across retries. */
  id: string;
  command: BloomreachCommand;
  source: CommandSource;
}

export interface PlanReply {
  eventId: string;
  /** send: `pending` commands/claims are due; settled: nothing left to do; needs_customer: enrich first. */
  kind: "send" | "settled" | "needs_customer";
  /** Every command planned for the event, for the delivery log. */
  commands: OutgoingCommand[];
  pending: OutgoingCommand[];
  /** Commands Bloomreach refused for good on earlier attempts: they keep the event dead. */
  refused: { id: string; error: string }[];
  /** Commands whose fate Bloomreach's answer left unknown: never resent unless an admin replays. */
  unknown: { id: string; error: string }[];
  claims: PendingClaim[];
  warnings: string[];
  outcome?: EventOutcome;
}

export interface PlanRequest {
  config: PlanConfig;
  events: RelayEvent[];
  /** Ids of events an admin asked to replay: settled dead events are planned again. */
  replay?: string[];
  /** True when Antavo's API could fill in a customer whose hard ID or mapped fields are missing. */
  canEnrich: boolean;
  /**
   * Set when the events carry Antavo's answer to `GET /customers/{id}` (or Antavo did not know the
   * customer): the object then asks for no enrichment again for `enrichmentTtlSeconds`, even when
   * the answer lacked a mapped field.
   */
  enrichedAt?: number;
  now: number;
}

export interface SettleRequest {
  eventId: string;
  delivered: string[];
  dead: { id: string; error: string }[];
  unknown?: { id: string; error: string }[];
}

export interface ClaimResult {
  eventId: string;
  key: string;
  result: { status: "claimed"; answer: Record<string, unknown> } | { status: "dead"; error: string };
}

interface ClaimRecord extends PendingClaim {
  status: "pending" | "claimed" | "dead";
  answer?: Record<string, unknown>;
  error?: string;
}

interface EventRecord {
  state: "planned" | "settled";
  plannedAt: number;
  commands: OutgoingCommand[];
  /** Ids not yet delivered or refused: what a retry resends. */
  pending: string[];
  delivered: string[];
  dead: { id: string; error: string }[];
  /** Absent on records written before outcome_unknown existed. */
  unknown?: { id: string; error: string }[];
  claims: ClaimRecord[];
  warnings: string[];
  /** Nothing could be sent: the customer has no usable hard ID. */
  unidentified?: boolean;
  outcome?: EventOutcome;
}

interface Snapshot {
  data: Record<string, unknown>;
  at: number;
}

const EventsSchema = v.array(RelayEventSchema);
const EVENT_PREFIX = "event:";
const ENRICHED_AT = "enrichedAt";
/** What an admin may replay: events that ended dead, or whose fate Bloomreach left unknown. */
const REPLAYABLE: ReadonlySet<string> = new Set(["dead", "outcome_unknown"]);
/** Event records outlive Antavo's redelivery window and the queue's retry horizon by far. */
const EVENT_RETENTION_SECONDS = 30 * 24 * 3600;
const PRUNE_INTERVAL_MS = 24 * 3600 * 1000;

export class CustomerSync extends DurableObject<Env> {
  async plan(request: PlanRequest): Promise<PlanReply[]> {
    v.parse(EventsSchema, request.events);
    const storage = this.ctx.storage;
    const ordered = [...request.events].sort((a, b) => a.createdAt - b.createdAt || a.receivedAt - b.receivedAt);
    const records = await storage.get<EventRecord>(ordered.map((e) => EVENT_PREFIX + e.id));
    let snapshot = (await storage.get<Snapshot>("snapshot")) ?? { data: {}, at: 0 };
    let fields = (await storage.get<FieldState>("fields")) ?? {};
    if (request.enrichedAt !== undefined) await storage.put(ENRICHED_AT, request.enrichedAt);
    const enrichedAt = request.canEnrich ? await storage.get<number>(ENRICHED_AT) : undefined;
    const replay = new Set(request.replay ?? []);
    const replies: PlanReply[] = [];
    const writes = new Map<string, unknown>();
    let snapshotChanged = false;

    for (const event of ordered) {
      const key = EVENT_PREFIX + event.id;
      const existing = (writes.get(key) as EventRecord | undefined) ?? records.get(key);
      const replaying = REPLAYABLE.has(existing?.outcome?.status ?? "") && replay.has(event.id);
      if (existing && !replaying) {
        replies.push(replyFor(event.id, existing));
        continue;
      }
      if (existing && existing.delivered.length > 0) {
        // Part of it reached Bloomreach: resend only what was refused, never the delivered events.
        const record = retryRefused(existing);
        writes.set(key, record);
        replies.push(replyFor(event.id, record));
        continue;
      }

      const customer = mergeSnapshot(snapshot.data, event);
      if (request.canEnrich && needsCustomer(request.config, customer, enrichedAt, request.now)) {
        replies.push({
          eventId: event.id,
          kind: "needs_customer",
          commands: [],
          pending: [],
          refused: [],
          unknown: [],
          claims: [],
          warnings: [],
        });
        continue;
      }

      const plan = planEvent(request.config, event, customer, request.now);
      const record: EventRecord = {
        state: "planned",
        plannedAt: request.now,
        commands: [],
        pending: [],
        delivered: [],
        dead: [],
        claims: plan.claims.map((claim) => ({ ...claim, status: "pending" })),
        warnings: plan.warnings,
        ...(plan.unidentified ? { unidentified: true } : {}),
      };
      fields = addCommands(record, event.id, plan.commands, fields, event.createdAt);
      settleIfDone(record);
      writes.set(key, record);
      replies.push(replyFor(event.id, record));

      // A date run carries the mirror's copy of the customer, which may be older than this object's:
      // it is planned with, never stored.
      if (event.customer && !event.dateRun) {
        snapshot = mergeNewer(snapshot, event.customer, event.createdAt);
        snapshotChanged = true;
      }
    }

    if (snapshotChanged) writes.set("snapshot", snapshot);
    writes.set("fields", fields);
    await storage.put(Object.fromEntries(writes));
    if (snapshotChanged) await this.mirror(ordered[0]!.customerId, snapshot.data, request.now);
    await this.ensurePruneAlarm();
    return replies;
  }

  /**
   * Records Antavo's answer to a reward claim (so it is never claimed again) and renders the
   * actions that followed it. Answers the event as it now stands.
   */
  async completeClaims(config: PlanConfig, results: ClaimResult[]): Promise<PlanReply[]> {
    const storage = this.ctx.storage;
    const records = await storage.get<EventRecord>(results.map((r) => EVENT_PREFIX + r.eventId));
    let fields = (await storage.get<FieldState>("fields")) ?? {};
    const touched = new Map<string, EventRecord>();
    for (const { eventId, key, result } of results) {
      const record = touched.get(eventId) ?? records.get(EVENT_PREFIX + eventId);
      const claim = record?.claims.find((c) => c.key === key);
      if (!record || !claim || claim.status !== "pending") continue;
      if (result.status === "dead") {
        Object.assign(claim, { status: "dead", error: result.error });
      } else {
        Object.assign(claim, { status: "claimed", answer: result.answer });
        const next = continueAfterClaim(config, claim, result.answer);
        // Records planned before `at` existed carry only `now`.
        fields = addCommands(record, eventId, next.commands, fields, claim.context.at ?? claim.context.now);
        if (next.claim) record.claims.push({ ...next.claim, status: "pending" });
      }
      settleIfDone(record);
      touched.set(eventId, record);
    }
    await storage.put({ ...Object.fromEntries([...touched].map(([id, r]) => [EVENT_PREFIX + id, r])), fields });
    return [...touched].map(([id, record]) => replyFor(id, record));
  }

  /** Records what Bloomreach did with the commands; refused customer fields are sent again next time. */
  async settle(results: SettleRequest[]): Promise<void> {
    const storage = this.ctx.storage;
    const records = await storage.get<EventRecord>(results.map((r) => EVENT_PREFIX + r.eventId));
    let fields = (await storage.get<FieldState>("fields")) ?? {};
    const writes: Record<string, EventRecord | FieldState> = {};
    for (const result of results) {
      const key = EVENT_PREFIX + result.eventId;
      const record = records.get(key);
      if (!record || record.state === "settled") continue;
      const unknown = result.unknown ?? [];
      const done = new Set([...result.delivered, ...result.dead.map((d) => d.id), ...unknown.map((u) => u.id)]);
      record.pending = record.pending.filter((id) => !done.has(id));
      record.delivered.push(...result.delivered.filter((id) => !record.delivered.includes(id)));
      record.dead.push(...result.dead);
      record.unknown = [...(record.unknown ?? []), ...unknown];
      for (const dead of result.dead) {
        const command = record.commands.find((c) => c.id === dead.id)?.command;
        if (command?.name === "customers") fields = forgetFields(fields, Object.keys(command.data.properties));
      }
      settleIfDone(record);
      writes[key] = record;
    }
    writes.fields = fields;
    await storage.put(writes);
  }

  /** The stored state of the customer (and of one event), for the admin API and tests. */
  async inspect(eventId?: string) {
    const [snapshot, fields, event] = await Promise.all([
      this.ctx.storage.get<Snapshot>("snapshot"),
      this.ctx.storage.get<FieldState>("fields"),
      eventId ? this.ctx.storage.get<EventRecord>(EVENT_PREFIX + eventId) : Promise.resolve(undefined),
    ]);
    return { snapshot, fields, event };
  }

  override async alarm(): Promise<void> {
    const cutoff = Math.floor(Date.now() / 1000) - EVENT_RETENTION_SECONDS;
    const records = await this.ctx.storage.list<EventRecord>({ prefix: EVENT_PREFIX });
    const expired = [...records].filter(([, r]) => r.state === "settled" && r.plannedAt < cutoff).map(([k]) => k);
    for (let i = 0; i < expired.length; i += 128) await this.ctx.storage.delete(expired.slice(i, i + 128));
    if (records.size > expired.length) await this.ctx.storage.setAlarm(Date.now() + PRUNE_INTERVAL_MS);
  }

  private async ensurePruneAlarm() {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + PRUNE_INTERVAL_MS);
  }

  private async mirror(customerId: string, snapshot: Record<string, unknown>, now: number) {
    // The mirror feeds date workflows and filters; a failed write is retried with the next event.
    try {
      await upsertCustomerStatement(
        openDatabase(this.env.DB),
        mirrorRow(customerId, { ...snapshot, id: customerId }, now),
      );
    } catch (error) {
      console.error(
        JSON.stringify({ customerId, message: `customer mirror write failed: ${(error as Error).message}` }),
      );
    }
  }
}

/** Appends planned commands to the record; mapping updates send only changed, non-stale fields. */
function addCommands(
  record: EventRecord,
  eventId: string,
  planned: PlannedCommand[],
  fields: FieldState,
  at: number,
): FieldState {
  let state = fields;
  for (const { command, source } of planned) {
    let outgoing = command;
    if (command.name === "customers" && source.kind === "mapping") {
      const diff = diffFields(state, command.data.properties, at);
      state = diff.next;
      if (Object.keys(diff.send).length === 0) continue;
      outgoing = { ...command, data: { ...command.data, properties: diff.send } };
    }
    const id = `${eventId}#${record.commands.length}`;
    record.commands.push({ id, command: outgoing, source });
    record.pending.push(id);
  }
  return state;
}

/** Enrichment is worth a call when something mapped is missing and Antavo was not asked lately. */
function needsCustomer(
  config: PlanConfig,
  customer: Record<string, unknown>,
  enrichedAt: number | undefined,
  now: number,
): boolean {
  if (!config.mapping.hardId) return false;
  if (enrichedAt !== undefined && now - enrichedAt < config.settings.enrichmentTtlSeconds) return false;
  return !resolveCustomerIds(config, customer) || lacksMappedField(config, customer);
}

function settleIfDone(record: EventRecord) {
  if (record.pending.length > 0 || record.claims.some((c) => c.status === "pending")) return;
  record.state = "settled";
  const results: CommandResult[] = [
    ...record.delivered.map(() => ({ status: "delivered" as const })),
    ...record.dead.map((d) => ({ status: "dead" as const, error: d.error })),
    ...(record.unknown ?? []).map((u) => ({ status: "outcome_unknown" as const, error: u.error })),
    ...record.claims
      .filter((c) => c.status === "dead")
      .map((c) => ({ status: "dead" as const, error: `reward claim ${c.action.rewardId}: ${c.error}` })),
  ];
  // Nothing could be planned because the customer cannot be identified: that is a dead event.
  if (record.commands.length === 0 && record.claims.length === 0 && record.unidentified) {
    results.push({ status: "dead", error: record.warnings.join("; ") });
  }
  record.outcome = combineOutcomes(results);
}

function retryRefused(record: EventRecord): EventRecord {
  const again = [...record.dead, ...(record.unknown ?? [])].map((d) => d.id);
  return { ...record, state: "planned", outcome: undefined, pending: again, dead: [], unknown: [] };
}

function replyFor(eventId: string, record: EventRecord): PlanReply {
  const pending = new Set(record.pending);
  return {
    eventId,
    kind: record.state === "settled" ? "settled" : "send",
    commands: record.commands,
    pending: record.commands.filter((c) => pending.has(c.id)),
    refused: record.dead,
    unknown: record.unknown ?? [],
    claims: record.claims.filter((c) => c.status === "pending"),
    warnings: record.warnings,
    ...(record.outcome ? { outcome: record.outcome } : {}),
  };
}

/** Newer events overwrite the snapshot's keys; an older one only fills keys it lacks. */
function mergeNewer(snapshot: Snapshot, fields: Record<string, unknown>, at: number): Snapshot {
  if (at >= snapshot.at) return { data: { ...snapshot.data, ...fields }, at };
  return { data: { ...fields, ...snapshot.data }, at: snapshot.at };
}
