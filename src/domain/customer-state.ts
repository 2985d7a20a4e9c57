/**
 * The per-customer state machine, as pure functions over a state value (issue 13): which events
 * are known, the last value and time sent for each mapped field, the planned commands and reward
 * claims not yet done, and the snapshot of the customer. The CustomerSync object only loads this
 * state, calls these functions with `now`, and stores what they changed.
 *
 * Invariants held here: an event planned once is never planned again (3) unless an admin replays a
 * dead or unknown one; a confirmed command is never pending again (2, 10); fields go out only when
 * changed and never older than what was sent (4); a claim Antavo confirmed is never made twice.
 */
import * as v from "valibot";
import type { AntavoEventData, CommandSource, PlannedCommand, RelayCommand } from "./commands";
import { type CommandResult, combineOutcomes, type EventOutcome } from "./delivery-outcome";
import type { RelayEvent } from "./event";
import { diffFields, type FieldState, forgetFields } from "./field-sync";
import { continueAfterClaim, type PendingClaim, type PlanConfig, planEvent } from "./plan-event";
import { lacksMappedField, mergeSnapshot, resolveCustomerIds } from "./planner";

export interface OutgoingCommand {
  /** `<eventId>#<n>`: identifies the command across retries. */
  id: string;
  command: RelayCommand;
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
  /** Reward claims Antavo refused, or whose answer was lost: they decide the event beside its commands. */
  claimOutcomes: CommandResult[];
  warnings: string[];
  outcome?: EventOutcome;
  /** The record's run (0, then one more per replay): its settle request carries it back. */
  run: number;
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
  /**
   * Outcomes of earlier batches that the caller wrote to its settlement outbox instead of settling
   * here: applied before anything is planned, so the plan sees every answer Bloomreach gave.
   */
  settlements?: SettleRequest[];
}

const FailuresSchema = v.array(v.object({ id: v.string(), error: v.string() }));
/** What a sink did with an event's commands, for its object (also the outbox row's body). */
export const SettleRequestSchema = v.object({
  eventId: v.pipe(v.string(), v.minLength(1)),
  /** The record's run the commands were planned in: an answer for an earlier run is not this run's. */
  run: v.optional(v.number()),
  delivered: v.array(v.string()),
  dead: FailuresSchema,
  unknown: v.optional(FailuresSchema),
  /** Commands the call did not take (a retry: 429, 5xx, timeout): no longer in flight. */
  released: v.optional(v.array(v.string())),
});
export type SettleRequest = v.InferOutput<typeof SettleRequestSchema>;

export interface ClaimResult {
  eventId: string;
  key: string;
  /**
   * `released`: Antavo did not take the call (429, 5xx): the claim is due again. `unknown`: the
   * call failed on the way (a timeout): Antavo may have made it, so it is not made again.
   */
  result:
    | { status: "claimed"; answer: Record<string, unknown> }
    | { status: "dead"; error: string }
    | { status: "released" }
    | { status: "unknown"; error: string };
}

/**
 * A claim is taken (`inflight`, with the time) in the object before Antavo is called, since Antavo
 * has no idempotency key: a second delivery of the event finds it taken and waits, and one that
 * finds it taken for longer than any call lasts knows the answer was lost (`unknown`): it is not
 * claimed again (the reward may have been given) unless an admin replays the event.
 */
export interface ClaimRecord extends PendingClaim {
  status: "pending" | "inflight" | "claimed" | "dead" | "unknown";
  /** When the claim was taken (Unix seconds), while `inflight`. */
  since?: number;
  answer?: Record<string, unknown>;
  error?: string;
}

/**
 * Longer than a delivery's claims can take: a batch takes all its claims at once and makes them one
 * after another (10 s timeouts, the shared Antavo budget's waits). A late answer still counts.
 */
export const CLAIM_INFLIGHT_SECONDS = 900;

export const CLAIM_UNKNOWN_ERROR =
  "outcome_unknown: an earlier attempt made this reward claim and its answer was never recorded; the relay does not claim it again (check the customer in Antavo, and give the reward there if it was not given)";

export interface ClaimStart {
  eventId: string;
  key: string;
  /** go: this caller makes the claim now; busy: another delivery is making it; done: nothing to do. */
  verdict: "go" | "busy" | "done";
}

export interface EventRecord {
  state: "planned" | "settled";
  plannedAt: number;
  /** 0 for the first run; a replay starts the next (absent on records before runs existed). */
  run?: number;
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
  /**
   * Antavo events handed to a call whose answer is not recorded yet (Antavo has no idempotency
   * keys): found still in flight by a later attempt, the call's fate is unknown and they are not sent again.
   */
  inflight?: string[];
  outcome?: EventOutcome;
}

export interface Snapshot {
  data: Record<string, unknown>;
  at: number;
}

/** What an admin may replay: events that ended dead, or whose fate Bloomreach left unknown. */
const REPLAYABLE: ReadonlySet<string> = new Set(["dead", "outcome_unknown"]);
/** Event records outlive Antavo's redelivery window and the queue's retry horizon by far. */
export const EVENT_RETENTION_SECONDS = 30 * 24 * 3600;

/** One customer's state, or the part of it a step reads: `events` holds the records it asked for. */
export interface CustomerState {
  snapshot: Snapshot;
  fields: FieldState;
  /** When Antavo was last asked for this customer (Unix seconds). */
  enrichedAt?: number;
  /**
   * When the customer was erased (DESIGN 4.6), Unix seconds: the one thing the object keeps after
   * it. Events the relay received up to then (still queued at the erasure) are never sent.
   */
  erasedAt?: number;
  events: Map<string, EventRecord>;
}

/** A step's answer: the state after it, and which parts of it changed (for the object to store). */
export interface StateStep<T> {
  state: CustomerState;
  changed: { snapshot: boolean; fields: boolean; enrichedAt: boolean; events: string[] };
  result: T;
}

export interface PlanResult {
  replies: PlanReply[];
  /** The customer's snapshot when this plan changed it: the caller writes it to the D1 mirror. */
  mirror?: Record<string, unknown>;
}

const copy = (state: CustomerState): CustomerState => ({ ...state, events: new Map(state.events) });

const orderOf = (a: RelayEvent, b: RelayEvent) => a.createdAt - b.createdAt || a.receivedAt - b.receivedAt;

/** An event received before the customer's erasure: settled without a command, never stored. */
const erasedReply = (eventId: string, erasedAt: number): PlanReply => ({
  eventId,
  kind: "settled",
  commands: [],
  pending: [],
  refused: [],
  unknown: [],
  claims: [],
  claimOutcomes: [],
  warnings: [],
  outcome: {
    status: "dead",
    error: `not sent: the customer was erased at ${erasedAt} (Unix seconds), after this event arrived`,
  },
  run: 0,
});

const needsCustomerReply = (eventId: string): PlanReply => ({
  eventId,
  kind: "needs_customer",
  commands: [],
  pending: [],
  refused: [],
  unknown: [],
  claims: [],
  claimOutcomes: [],
  warnings: [],
  run: 0,
});

/** Plans the events in event-time order: known ones answer as they stand, new ones are planned. */
export function planEvents(current: CustomerState, request: PlanRequest): StateStep<PlanResult> {
  const settled = settle(current, request.settlements ?? []);
  const state = copy(settled.state);
  const touched = new Set<string>(settled.changed.events);
  const replay = new Set(request.replay ?? []);
  const replies: PlanReply[] = [];
  let snapshotChanged = false;
  const enrichedAtChanged = request.enrichedAt !== undefined;
  if (enrichedAtChanged) state.enrichedAt = request.enrichedAt;

  for (const event of [...request.events].sort(orderOf)) {
    if (state.erasedAt !== undefined && event.receivedAt <= state.erasedAt) {
      replies.push(erasedReply(event.id, state.erasedAt));
      continue;
    }
    const existing = state.events.get(event.id);
    const replaying = REPLAYABLE.has(existing?.outcome?.status ?? "") && replay.has(event.id);
    if (existing && !replaying) {
      replies.push(replyFor(event.id, existing));
      continue;
    }
    const claimTouched = existing?.claims.some((c) => c.status === "claimed" || c.status === "unknown");
    if (existing && (existing.delivered.length > 0 || claimTouched)) {
      // Part of it reached Bloomreach or Antavo: resend only what was refused, never the delivered
      // events, and never a reward claim that was made or may have been.
      const record = retryRefused(existing);
      settleIfDone(record);
      state.events.set(event.id, record);
      touched.add(event.id);
      replies.push(replyFor(event.id, record));
      continue;
    }

    const customer = mergeSnapshot(state.snapshot.data, event);
    // A backfill sends what the mirror holds: asking Antavo for every member would spend its budget.
    const mayEnrich = request.canEnrich && !event.backfill;
    if (mayEnrich && needsCustomer(request.config, customer, state.enrichedAt, request.now)) {
      replies.push(needsCustomerReply(event.id));
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
      // A replay planned afresh is the next run: an outcome row of the dead run, applied late,
      // must not settle the new commands, which reuse its command ids.
      ...(existing ? { run: (existing.run ?? 0) + 1 } : {}),
    };
    state.fields = addCommands(record, event.id, plan.commands, state.fields, event.createdAt);
    settleIfDone(record);
    state.events.set(event.id, record);
    touched.add(event.id);
    replies.push(replyFor(event.id, record));

    // A date run or a backfill carries the mirror's copy of the customer, which may be older than
    // this object's: it is planned with, never stored.
    if (event.customer && !event.dateRun && !event.backfill) {
      state.snapshot = mergeNewer(state.snapshot, event.customer, event.createdAt);
      snapshotChanged = true;
    }
  }
  return {
    state,
    changed: {
      snapshot: snapshotChanged,
      fields: touched.size > 0 || settled.changed.fields,
      enrichedAt: enrichedAtChanged,
      events: [...touched],
    },
    result: { replies, ...(snapshotChanged ? { mirror: state.snapshot.data } : {}) },
  };
}

/**
 * Takes the claims a delivery is about to make: a due one becomes in flight (go); one in flight
 * for another delivery is left to it (busy), unless it has been in flight past any call's length,
 * when its answer is taken as lost and the claim ends `unknown` (done, like a made or refused one).
 */
export function startClaims(
  current: CustomerState,
  requests: readonly { eventId: string; key: string }[],
  now: number,
): StateStep<{ starts: ClaimStart[]; replies: PlanReply[] }> {
  const state = copy(current);
  const touched = new Set<string>();
  const starts: ClaimStart[] = [];
  for (const { eventId, key } of requests) {
    const stored = state.events.get(eventId);
    const record = stored && (touched.has(eventId) ? stored : structuredClone(stored));
    const claim = record?.claims.find((c) => c.key === key);
    let verdict: ClaimStart["verdict"] = "done";
    if (record && claim?.status === "pending") {
      Object.assign(claim, { status: "inflight", since: now });
      verdict = "go";
    } else if (record && claim?.status === "inflight") {
      if (now - (claim.since ?? 0) < CLAIM_INFLIGHT_SECONDS) verdict = "busy";
      else {
        Object.assign(claim, { status: "unknown", error: CLAIM_UNKNOWN_ERROR, since: undefined });
        settleIfDone(record);
      }
    }
    starts.push({ eventId, key, verdict });
    if (record && verdict !== "busy") {
      state.events.set(eventId, record);
      touched.add(eventId);
    }
  }
  return {
    state,
    changed: { snapshot: false, fields: false, enrichedAt: false, events: [...touched] },
    result: { starts, replies: [...touched].map((id) => replyFor(id, state.events.get(id)!)) },
  };
}

/**
 * Records Antavo's answers to reward claims (so none is claimed again) and renders the actions
 * that followed each. Answers the events as they now stand.
 */
export function completeClaims(
  current: CustomerState,
  config: PlanConfig,
  results: ClaimResult[],
): StateStep<PlanReply[]> {
  const state = copy(current);
  const touched = new Set<string>();
  // Every event asked about is answered as it now stands, changed or not: a caller holding a reply
  // whose claim another batch already recorded must not take that claim for still pending.
  const asked = new Set<string>();
  for (const { eventId, key, result } of results) {
    const stored = state.events.get(eventId);
    if (stored) asked.add(eventId);
    const record = stored && (touched.has(eventId) ? stored : structuredClone(stored));
    const claim = record?.claims.find((c) => c.key === key);
    const open = claim?.status === "inflight" || claim?.status === "pending";
    // Antavo's own answer arriving after the claim was given up as unknown is still the truth.
    const late = claim?.status === "unknown" && (result.status === "claimed" || result.status === "dead");
    if (!record || !claim || !(open || late)) continue;
    if (result.status === "released") {
      Object.assign(claim, { status: "pending", since: undefined });
    } else if (result.status === "unknown") {
      Object.assign(claim, { status: "unknown", error: result.error, since: undefined });
    } else if (result.status === "dead") {
      Object.assign(claim, { status: "dead", error: result.error, since: undefined });
    } else {
      Object.assign(claim, { status: "claimed", answer: result.answer, since: undefined });
      const next = continueAfterClaim(config, claim, result.answer);
      // Records planned before `at` existed carry only `now`.
      state.fields = addCommands(record, eventId, next.commands, state.fields, claim.context.at ?? claim.context.now);
      if (next.claim) record.claims.push({ ...next.claim, status: "pending" });
    }
    // A late answer reopens an event settled as unknown: what follows the claim is still to send.
    if (late) {
      record.state = "planned";
      record.outcome = undefined;
    }
    settleIfDone(record);
    state.events.set(eventId, record);
    touched.add(eventId);
  }
  return {
    state,
    changed: { snapshot: false, fields: touched.size > 0, enrichedAt: false, events: [...touched] },
    result: [...asked].map((id) => replyFor(id, state.events.get(id)!)),
  };
}

/**
 * Records what Bloomreach did with the commands; refused customer fields are sent again next time.
 * Applying the same request twice changes nothing more (a settlement may reach the object from
 * both a plan call and the sweep).
 */
export function settle(current: CustomerState, results: SettleRequest[]): StateStep<void> {
  const state = copy(current);
  const touched = new Set<string>();
  for (const result of results) {
    const stored = state.events.get(result.eventId);
    if (!stored || stored.state === "settled" || (result.run ?? 0) !== (stored.run ?? 0)) continue;
    const record = structuredClone(stored);
    // Only what is still pending (or in flight) takes an answer: a second copy finds nothing to do.
    const open = new Set([...record.pending, ...(record.inflight ?? [])]);
    const delivered = result.delivered.filter((id) => open.has(id));
    const dead = result.dead.filter((d) => open.has(d.id));
    const unknown = (result.unknown ?? []).filter((u) => open.has(u.id));
    const done = new Set([...delivered, ...dead.map((d) => d.id), ...unknown.map((u) => u.id)]);
    record.pending = record.pending.filter((id) => !done.has(id));
    if (record.inflight) {
      const released = new Set([...done, ...(result.released ?? [])]);
      record.inflight = record.inflight.filter((id) => !released.has(id));
    }
    record.delivered.push(...delivered);
    record.dead.push(...dead);
    record.unknown = [...(record.unknown ?? []), ...unknown];
    for (const refused of dead) {
      const command = record.commands.find((c) => c.id === refused.id)?.command;
      if (command?.name === "customers")
        state.fields = forgetFields(state.fields, Object.keys(command.data.properties));
    }
    settleIfDone(record);
    state.events.set(result.eventId, record);
    touched.add(result.eventId);
  }
  return {
    state,
    changed: { snapshot: false, fields: touched.size > 0, enrichedAt: false, events: [...touched] },
    result: undefined,
  };
}

/** One Antavo event to plan: the event it came from, and what the inbound rule made of it. */
export interface AntavoEventPlan {
  eventId: string;
  eventType: string;
  event: AntavoEventData;
}

export interface AntavoPlanRequest {
  events: AntavoEventPlan[];
  /** Ids of events an admin asked to replay: settled dead or unknown events are planned again. */
  replay?: string[];
  now: number;
}

export const IN_FLIGHT_UNKNOWN =
  "outcome_unknown: an earlier attempt handed the event to Antavo and its answer was never recorded; it is not sent again blindly (replay it if Antavo does not have it)";

/**
 * Plans Antavo events (the other direction) for one customer, in the order given (the caller sorts
 * by event time). A new event is recorded with its one command; every command that goes out is
 * marked in flight first, so a crash between Antavo's answer and its record is found by the next
 * attempt and ends `outcome_unknown` instead of a second event in Antavo (DESIGN 4.4).
 */
export function planAntavoEvents(current: CustomerState, request: AntavoPlanRequest): StateStep<PlanReply[]> {
  const state = copy(current);
  const touched = new Set<string>();
  const replay = new Set(request.replay ?? []);
  const replies: PlanReply[] = [];
  for (const { eventId, eventType, event } of request.events) {
    const stored = state.events.get(eventId);
    let record: EventRecord;
    if (!stored) {
      const id = `${eventId}#0`;
      record = {
        state: "planned",
        plannedAt: request.now,
        commands: [
          { id, command: { name: "antavo/events", data: event }, source: { kind: "inbound_rule", eventType } },
        ],
        pending: [id],
        delivered: [],
        dead: [],
        claims: [],
        warnings: [],
      };
    } else if (stored.state === "settled") {
      if (!(REPLAYABLE.has(stored.outcome?.status ?? "") && replay.has(eventId))) {
        replies.push(replyFor(eventId, stored));
        continue;
      }
      record = retryRefused(structuredClone(stored));
    } else if ((stored.inflight ?? []).length > 0) {
      record = structuredClone(stored);
      const lost = new Set(record.inflight);
      record.pending = record.pending.filter((id) => !lost.has(id));
      record.unknown = [...(record.unknown ?? []), ...[...lost].map((id) => ({ id, error: IN_FLIGHT_UNKNOWN }))];
      record.inflight = [];
      settleIfDone(record);
      state.events.set(eventId, record);
      touched.add(eventId);
      replies.push(replyFor(eventId, record));
      continue;
    } else {
      record = structuredClone(stored);
    }
    record.inflight = [...record.pending];
    state.events.set(eventId, record);
    touched.add(eventId);
    replies.push(replyFor(eventId, record));
  }
  return {
    state,
    changed: { snapshot: false, fields: false, enrichedAt: false, events: [...touched] },
    result: replies,
  };
}

/** The event records past the retention: settled and planned before `cutoff`. */
export function expiredEvents(events: Map<string, EventRecord>, nowSeconds: number): string[] {
  const cutoff = nowSeconds - EVENT_RETENTION_SECONDS;
  return [...events].filter(([, r]) => r.state === "settled" && r.plannedAt < cutoff).map(([id]) => id);
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

/** The refused and lost reward claims of an event, as outcomes beside its commands'. */
function claimOutcomes(record: EventRecord): CommandResult[] {
  return record.claims
    .filter((c) => c.status === "dead" || c.status === "unknown")
    .map((c) => ({
      status: c.status === "dead" ? ("dead" as const) : ("outcome_unknown" as const),
      error: `reward claim ${c.action.rewardId}: ${c.error}`,
    }));
}

function settleIfDone(record: EventRecord) {
  if (record.pending.length > 0 || record.claims.some((c) => c.status === "pending" || c.status === "inflight")) return;
  record.state = "settled";
  const results: CommandResult[] = [
    ...record.delivered.map(() => ({ status: "delivered" as const })),
    ...record.dead.map((d) => ({ status: "dead" as const, error: d.error })),
    ...(record.unknown ?? []).map((u) => ({ status: "outcome_unknown" as const, error: u.error })),
    ...claimOutcomes(record),
  ];
  // Nothing could be planned because the customer cannot be identified: that is a dead event.
  if (record.commands.length === 0 && record.claims.length === 0 && record.unidentified) {
    results.push({ status: "dead", error: record.warnings.join("; ") });
  }
  record.outcome = combineOutcomes(results);
}

function retryRefused(record: EventRecord): EventRecord {
  const again = [...record.dead, ...(record.unknown ?? [])].map((d) => d.id);
  const run = (record.run ?? 0) + 1;
  // A claim Antavo refused is due again; one whose answer was lost is not (the reward may have been
  // given): the relay never makes it again, the admin gives the reward in Antavo if it was not.
  const claims = record.claims.map((c) =>
    c.status === "dead" ? { ...c, status: "pending" as const, error: undefined } : c,
  );
  return { ...record, run, state: "planned", outcome: undefined, pending: again, dead: [], unknown: [], claims };
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
    // Due, or taken by a delivery that may have lost its answer: startClaims tells which.
    claims: record.claims.filter((c) => c.status === "pending" || c.status === "inflight"),
    claimOutcomes: claimOutcomes(record),
    warnings: record.warnings,
    ...(record.outcome ? { outcome: record.outcome } : {}),
    run: record.run ?? 0,
  };
}

/** Newer events overwrite the snapshot's keys; an older one only fills keys it lacks. */
function mergeNewer(snapshot: Snapshot, fields: Record<string, unknown>, at: number): Snapshot {
  if (at >= snapshot.at) return { data: { ...snapshot.data, ...fields }, at };
  return { data: { ...fields, ...snapshot.data }, at: snapshot.at };
}
