/**
 * CustomerSync: one Durable Object per Antavo customer, the single writer for that customer. It is
 * a storage shell around the pure state machine in domain/customer-state: it loads the state a
 * call needs, runs the step with the caller's `now`, and stores what the step changed in one put.
 * It makes no network calls and no D1 writes (the caller writes the mirror with the delivery log),
 * so each call runs without interleaving.
 */
import { DurableObject } from "cloudflare:workers";
import * as v from "valibot";
import {
  type AntavoPlanRequest,
  type ClaimResult,
  type ClaimStart,
  type CustomerState,
  completeClaims,
  type EventRecord,
  expiredEvents,
  type PlanReply,
  type PlanRequest,
  type PlanResult,
  planAntavoEvents,
  planEvents,
  type SettleRequest,
  SettleRequestSchema,
  type Snapshot,
  type StateStep,
  settle,
  startClaims,
} from "../domain/customer-state";
import { RelayEventSchema } from "../domain/event";
import type { FieldState } from "../domain/field-sync";
import type { PlanConfig } from "../domain/plan-event";
import { chunk } from "../lib/chunk";

export type {
  AntavoPlanRequest,
  ClaimResult,
  ClaimStart,
  OutgoingCommand,
  PlanReply,
  PlanRequest,
  PlanResult,
  SettleRequest,
} from "../domain/customer-state";

const EventsSchema = v.array(RelayEventSchema);
const SettlementsSchema = v.array(SettleRequestSchema);
const OptionalSettlementsSchema = v.optional(SettlementsSchema);
const AntavoPlanSchema = v.object({
  events: v.array(
    v.object({
      eventId: v.pipe(v.string(), v.minLength(1)),
      eventType: v.string(),
      event: v.object({ customer: v.string(), action: v.string(), data: v.record(v.string(), v.unknown()) }),
    }),
  ),
  replay: v.optional(v.array(v.string())),
  now: v.number(),
});
const ClaimRequestsSchema = v.array(v.object({ eventId: v.pipe(v.string(), v.minLength(1)), key: v.string() }));
const EVENT_PREFIX = "event:";
const SNAPSHOT = "snapshot";
const FIELDS = "fields";
const ENRICHED_AT = "enrichedAt";
const ERASED_AT = "erasedAt";
const PRUNE_INTERVAL_MS = 24 * 3600 * 1000;
/** The most keys one storage get, put or delete takes. */
const MAX_KEYS = 128;

/**
 * A plan call names the configuration by version and carries it only when the caller does not know
 * that this object holds it. What it carries is the mapping, the settings and only the workflows
 * the call's events can trigger (domain/plan-event planConfigFor), never every active workflow.
 */
export type PlanCall = Omit<PlanRequest, "config"> & { configVersion?: string; config?: PlanConfig };
export type PlanAnswer = PlanResult | { needsConfig: true };

export class CustomerSync extends DurableObject<Env> {
  /** The last configuration a caller sent, while the object lives. */
  private config: { version: string; value: PlanConfig } | undefined;
  /** Whether this instance has seen the prune alarm set (saves a storage read per call). */
  private pruneAlarmSet = false;

  /** With the config in hand the object always plans; with a version only, it may ask for it. */
  async plan(call: PlanCall & { config: PlanConfig }): Promise<PlanResult>;
  async plan(call: PlanCall): Promise<PlanAnswer>;
  async plan(call: PlanCall): Promise<PlanAnswer> {
    v.parse(EventsSchema, call.events);
    v.parse(OptionalSettlementsSchema, call.settlements);
    const config = call.config ?? (call.configVersion === this.config?.version ? this.config?.value : undefined);
    if (!config) return { needsConfig: true };
    if (call.config && call.configVersion) this.config = { version: call.configVersion, value: call.config };
    const request: PlanRequest = { ...call, config };
    const ids = [...request.events.map((e) => e.id), ...(request.settlements ?? []).map((s) => s.eventId)];
    const step = planEvents(await this.load([...new Set(ids)]), request);
    await this.store(step);
    await this.ensurePruneAlarm();
    return step.result;
  }

  /** The other direction: the customer's Antavo events, each sent at most once (DESIGN 4.4). */
  async planAntavo(request: AntavoPlanRequest): Promise<PlanReply[]> {
    v.parse(AntavoPlanSchema, request);
    const step = planAntavoEvents(await this.load(request.events.map((e) => e.eventId)), request);
    await this.store(step);
    await this.ensurePruneAlarm();
    return step.result;
  }

  /** Takes the claims a delivery is about to make in Antavo, before it calls (Antavo has no idempotency key). */
  async startClaims(
    requests: { eventId: string; key: string }[],
    now: number,
  ): Promise<{ starts: ClaimStart[]; replies: PlanReply[] }> {
    v.parse(ClaimRequestsSchema, requests);
    const step = startClaims(await this.load(requests.map((r) => r.eventId)), requests, v.parse(v.number(), now));
    await this.store(step);
    return step.result;
  }

  async completeClaims(config: PlanConfig, results: ClaimResult[]): Promise<PlanReply[]> {
    const step = completeClaims(await this.load(results.map((r) => r.eventId)), config, results);
    await this.store(step);
    return step.result;
  }

  async settle(results: SettleRequest[]): Promise<void> {
    v.parse(SettlementsSchema, results);
    await this.store(settle(await this.load(results.map((r) => r.eventId)), results));
  }

  /**
   * Erasure (DESIGN 4.6): everything the object stored goes (`deleteAll`), and only the time of the
   * erasure stays, so events queued before it are not sent after it. Answers the snapshot it held
   * (the caller may need the hard ID to anonymize the customer in Bloomreach).
   */
  async erase(at: number): Promise<{ snapshot?: Record<string, unknown> }> {
    const snapshot = await this.ctx.storage.get<Snapshot>(SNAPSHOT);
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    await this.ctx.storage.put(ERASED_AT, at);
    this.config = undefined;
    this.pruneAlarmSet = false;
    return snapshot ? { snapshot: snapshot.data } : {};
  }

  /** Everything in the object's storage, for tests that prove an erasure left nothing behind. */
  async dumpStorage(): Promise<Record<string, unknown>> {
    return Object.fromEntries(await this.ctx.storage.list());
  }

  /** The stored state of the customer (and of one event), for the admin API and tests. */
  async inspect(eventId?: string) {
    const state = await this.load(eventId ? [eventId] : []);
    return {
      snapshot: await this.ctx.storage.get<Snapshot>(SNAPSHOT),
      fields: await this.ctx.storage.get<FieldState>(FIELDS),
      event: eventId ? state.events.get(eventId) : undefined,
    };
  }

  override async alarm(): Promise<void> {
    this.pruneAlarmSet = false;
    const stored = await this.ctx.storage.list<EventRecord>({ prefix: EVENT_PREFIX });
    const events = new Map([...stored].map(([key, record]) => [key.slice(EVENT_PREFIX.length), record]));
    const expired = expiredEvents(events, Math.floor(Date.now() / 1000)).map((id) => EVENT_PREFIX + id);
    for (const part of chunk(expired, MAX_KEYS)) await this.ctx.storage.delete(part);
    if (events.size > expired.length) await this.ctx.storage.setAlarm(Date.now() + PRUNE_INTERVAL_MS);
  }

  /** One batched read: the customer's snapshot, field state, last lookup and the named events. */
  private async load(eventIds: string[]): Promise<CustomerState> {
    const keys = [SNAPSHOT, FIELDS, ENRICHED_AT, ERASED_AT, ...eventIds.map((id) => EVENT_PREFIX + id)];
    // Storage takes at most 128 keys a call: a batch's events and the settlements it carries can be more.
    const parts = await Promise.all(chunk(keys, MAX_KEYS).map((part) => this.ctx.storage.get<unknown>(part)));
    const stored = new Map(parts.flatMap((part) => [...part]));
    const events = new Map<string, EventRecord>();
    for (const id of eventIds) {
      const record = stored.get(EVENT_PREFIX + id) as EventRecord | undefined;
      if (record) events.set(id, record);
    }
    const enrichedAt = stored.get(ENRICHED_AT) as number | undefined;
    const erasedAt = stored.get(ERASED_AT) as number | undefined;
    return {
      snapshot: (stored.get(SNAPSHOT) as Snapshot | undefined) ?? { data: {}, at: 0 },
      fields: (stored.get(FIELDS) as FieldState | undefined) ?? {},
      ...(enrichedAt !== undefined ? { enrichedAt } : {}),
      ...(erasedAt !== undefined ? { erasedAt } : {}),
      events,
    };
  }

  /** One put of everything the step changed. */
  private async store({ state, changed }: StateStep<unknown>): Promise<void> {
    const writes: Record<string, unknown> = {};
    if (changed.snapshot) writes[SNAPSHOT] = state.snapshot;
    if (changed.fields) writes[FIELDS] = state.fields;
    if (changed.enrichedAt) writes[ENRICHED_AT] = state.enrichedAt;
    for (const id of changed.events) writes[EVENT_PREFIX + id] = state.events.get(id);
    // Puts issued together, without an await between them, are written as one (atomically).
    const entries = Object.entries(writes);
    await Promise.all(chunk(entries, MAX_KEYS).map((part) => this.ctx.storage.put(Object.fromEntries(part))));
  }

  /** Pruning runs on the object's own clock: it answers to no caller. */
  private async ensurePruneAlarm() {
    // Checked once per object instance, not per call: the alarm is only cleared by alarm() and
    // erase(), which reset the flag, so a live instance that saw it set can trust it.
    if (this.pruneAlarmSet) return;
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + PRUNE_INTERVAL_MS);
    this.pruneAlarmSet = true;
  }
}
