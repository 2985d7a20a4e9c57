/**
 * The per-customer state machine as pure functions (domain/customer-state), tested without a
 * Durable Object: the object only loads and stores what these steps return.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS } from "../src/domain/config";
import {
  CLAIM_INFLIGHT_SECONDS,
  CLAIM_UNKNOWN_ERROR,
  type CustomerState,
  completeClaims,
  expiredEvents,
  planEvents,
  settle,
  startClaims,
} from "../src/domain/customer-state";
import type { PlanConfig } from "../src/domain/plan-event";
import { WorkflowDocumentSchema } from "../src/domain/workflow/document";
import { relayEvent } from "./support/pipeline";

const config: PlanConfig = {
  mapping: {
    hardId: { loyaltyField: "email", remoteId: "registered" },
    fields: [{ loyaltyField: "score", remoteField: "loyalty_points" }],
  },
  settings: { ...DEFAULT_SETTINGS, events: [{ action: "opt_in", remoteEvent: "loyalty_opt_in" }] },
  workflows: [],
};

/** A config whose one workflow claims reward rw-1 on opt_in, and an opt_in event for it. */
function claimSetup(followUp = false) {
  const document = WorkflowDocumentSchema.parse({
    name: "welcome reward",
    trigger: { type: "event", action: "opt_in" },
    actions: [
      { type: "reward_claim", rewardId: "rw-1" },
      ...(followUp ? [{ type: "sync_event", event: "reward_given", properties: { code: "{{claim.id}}" } }] : []),
    ],
  });
  const withClaim: PlanConfig = {
    ...config,
    workflows: [{ id: "wf-r", name: document.name, active: true, priority: 0, createdAt: 1, document }],
  };
  return {
    config: withClaim,
    event: relayEvent({ id: "cl-1", customerId: "c", customer: { email: "c@example.com" } }),
  };
}

/** Bloomreach took every command the plan made: only the claims are left. */
function sentAll(step: ReturnType<typeof planEvents>) {
  const delivered = step.result.replies.map((r) => ({
    eventId: r.eventId,
    run: r.run,
    delivered: r.pending.map((c) => c.id),
    dead: [],
  }));
  return { ...step, state: settle(step.state, delivered).state };
}

const empty = (): CustomerState => ({ snapshot: { data: {}, at: 0 }, fields: {}, events: new Map() });
const request = (events: ReturnType<typeof relayEvent>[], now = 100) => ({ config, events, canEnrich: false, now });

describe("customer state", () => {
  it("plans a new event once, and answers a known one as it stands without planning it again", () => {
    const event = relayEvent({ id: "s-1", customerId: "c", customer: { email: "c@example.com", score: 5 } });
    const first = planEvents(empty(), request([event]));
    expect(first.result.replies[0]).toMatchObject({ kind: "send" });
    expect(first.result.replies[0]!.pending.map((c) => c.id)).toEqual(["s-1#0", "s-1#1"]);
    expect(first.changed).toMatchObject({ snapshot: true, fields: true, events: ["s-1"] });
    expect(first.result.mirror).toMatchObject({ email: "c@example.com", score: 5 });

    const again = planEvents(first.state, request([event], 200));
    expect(again.changed.events).toEqual([]);
    expect(again.result.replies[0]!.pending.map((c) => c.id)).toEqual(["s-1#0", "s-1#1"]);
    expect(again.result.mirror).toBeUndefined();
  });

  it("never changes the state it was given", () => {
    const state = empty();
    const before = structuredClone(state);
    const planned = planEvents(state, request([relayEvent({ id: "p-1", customerId: "c" })]));
    settle(planned.state, [{ eventId: "p-1", delivered: ["p-1#0"], dead: [] }]);
    expect(state).toEqual(before);
    expect(planned.state.events.get("p-1")!.pending).toEqual(["p-1#0", "p-1#1"]);
  });

  it("settles delivered, dead and unknown commands; an admin replay resends only the refused and unknown", () => {
    const event = relayEvent({ id: "r-1", customerId: "c" });
    const planned = planEvents(empty(), request([event]));
    const settled = settle(planned.state, [
      { eventId: "r-1", delivered: [], dead: [{ id: "r-1#0", error: "refused" }], unknown: [] },
    ]);
    const halfway = settle(settled.state, [
      { eventId: "r-1", delivered: [], dead: [], unknown: [{ id: "r-1#1", error: "HTML answer" }] },
    ]);
    // The first answer leaves r-1#1 pending; the second settles the event, and dead outranks unknown.
    expect(settled.state.events.get("r-1")!.state).toBe("planned");
    const record = halfway.state.events.get("r-1")!;
    expect(record.outcome).toEqual({ status: "dead", error: "refused" });

    const unknownOnly = settle(planEvents(empty(), request([relayEvent({ id: "u-1", customerId: "c" })])).state, [
      { eventId: "u-1", delivered: ["u-1#0"], dead: [], unknown: [{ id: "u-1#1", error: "HTML answer" }] },
    ]);
    expect(unknownOnly.state.events.get("u-1")!.outcome).toEqual({ status: "outcome_unknown", error: "HTML answer" });
    const notReplayed = planEvents(unknownOnly.state, request([relayEvent({ id: "u-1", customerId: "c" })]));
    expect(notReplayed.result.replies[0]).toMatchObject({ kind: "settled", pending: [] });
    const replayed = planEvents(unknownOnly.state, {
      ...request([relayEvent({ id: "u-1", customerId: "c" })]),
      replay: ["u-1"],
    });
    expect(replayed.result.replies[0]!.pending.map((c) => c.id)).toEqual(["u-1#1"]);
  });

  it("applies a settlement given twice as once, and applies the settlements a plan carries before planning", () => {
    const event = relayEvent({ id: "i-1", customerId: "c" });
    const planned = planEvents(empty(), request([event]));
    const refusal = { eventId: "i-1", delivered: ["i-1#1"], dead: [{ id: "i-1#0", error: "refused" }] };
    const once = settle(planned.state, [refusal]);
    const twice = settle(settle(planned.state, [{ ...refusal, delivered: [] }]).state, [refusal]);
    expect(twice.state.events.get("i-1")).toEqual(once.state.events.get("i-1"));
    expect(once.state.events.get("i-1")!.dead).toEqual([{ id: "i-1#0", error: "refused" }]);

    // Carried with the next plan: the event is known settled, and the refused profile goes out again.
    const next = relayEvent({ id: "i-2", customerId: "c", createdAt: event.createdAt + 60 });
    const carried = planEvents(planned.state, { ...request([event, next], 200), settlements: [refusal] });
    expect(carried.result.replies.find((r) => r.eventId === "i-1")).toMatchObject({
      kind: "settled",
      outcome: { status: "dead", error: "refused" },
    });
    const profile = carried.result.replies.find((r) => r.eventId === "i-2")!.pending[0]!.command;
    expect(profile).toMatchObject({ name: "customers", data: { properties: { loyalty_points: 100 } } });
    expect(carried.changed.events.sort()).toEqual(["i-1", "i-2"]);
  });

  it("ignores an earlier run's answer once a replay started the next run", () => {
    const event = relayEvent({ id: "rr-1", customerId: "c" });
    const planned = planEvents(empty(), request([event]));
    const firstRun = { eventId: "rr-1", run: 0, delivered: ["rr-1#0"], dead: [{ id: "rr-1#1", error: "refused" }] };
    const dead = settle(planned.state, [firstRun]);
    const replayed = planEvents(dead.state, { ...request([event], 300), replay: ["rr-1"] });
    expect(replayed.result.replies[0]).toMatchObject({ run: 1, pending: [expect.objectContaining({ id: "rr-1#1" })] });
    // The first run's row, applied late (by the sweep, or a batch that read it earlier), changes nothing.
    const late = settle(replayed.state, [firstRun]);
    expect(late.state.events.get("rr-1")).toEqual(replayed.state.events.get("rr-1"));
    const delivered = settle(late.state, [{ eventId: "rr-1", run: 1, delivered: ["rr-1#1"], dead: [] }]);
    expect(delivered.state.events.get("rr-1")!.outcome).toEqual({ status: "delivered" });
  });

  it("starts the next run when a replay plans a dead event afresh, so the dead run's late answer is ignored", () => {
    const event = relayEvent({ id: "fr-1", customerId: "c", customer: { email: "c@example.com", score: 5 } });
    const planned = planEvents(empty(), request([event]));
    const deadRun = { eventId: "fr-1", run: 0, delivered: [], dead: [{ id: "fr-1#0", error: "refused" }] };
    // Nothing reached Bloomreach: the replay plans the event again, with the same command ids.
    const dead = settle(settle(planned.state, [deadRun]).state, [
      { eventId: "fr-1", run: 0, delivered: [], dead: [{ id: "fr-1#1", error: "refused" }] },
    ]);
    expect(dead.state.events.get("fr-1")!.outcome?.status).toBe("dead");
    const replayed = planEvents(dead.state, { ...request([event], 300), replay: ["fr-1"] });
    expect(replayed.result.replies[0]).toMatchObject({ run: 1 });
    expect(replayed.result.replies[0]!.pending.map((c) => c.id)).toEqual(["fr-1#0", "fr-1#1"]);
    const late = settle(replayed.state, [deadRun]);
    expect(late.state.events.get("fr-1")).toEqual(replayed.state.events.get("fr-1"));
  });

  it("answers a claim another batch already recorded as it stands, with nothing left to claim", () => {
    const { config: withClaim, event } = claimSetup();
    const planned = planEvents(empty(), { ...request([event]), config: withClaim });
    const [claim] = planned.result.replies[0]!.claims;
    expect(claim).toBeDefined();
    const result = { eventId: "cl-1", key: claim!.key, result: { status: "claimed" as const, answer: { id: "cp-1" } } };
    const first = completeClaims(planned.state, withClaim, [result]);
    expect(first.result.map((r) => r.claims)).toEqual([[]]);
    // A second batch that made the same claim concurrently records it too late: it still learns
    // that nothing is due, instead of getting no answer and claiming again.
    const second = completeClaims(first.state, withClaim, [result]);
    expect(second.changed.events).toEqual([]);
    expect(second.result).toHaveLength(1);
    expect(second.result[0]).toMatchObject({ eventId: "cl-1", claims: [] });
  });

  it("takes a claim before it is made: a second delivery waits, and one whose answer was lost ends unknown", () => {
    const { config: withClaim, event } = claimSetup();
    const planned = sentAll(planEvents(empty(), { ...request([event]), config: withClaim }));
    const key = planned.result.replies[0]!.claims[0]!.key;
    const ask = [{ eventId: "cl-1", key }];
    const taken = startClaims(planned.state, ask, 100);
    expect(taken.result.starts).toEqual([{ eventId: "cl-1", key, verdict: "go" }]);
    expect(taken.state.events.get("cl-1")!.claims[0]).toMatchObject({ status: "inflight", since: 100 });
    // Still listed (so a later delivery can find a lost answer), but not made twice.
    expect(planEvents(taken.state, request([event], 150)).result.replies[0]!.claims).toHaveLength(1);
    expect(startClaims(taken.state, ask, 150).result.starts[0]!.verdict).toBe("busy");
    const lost = startClaims(taken.state, ask, 100 + CLAIM_INFLIGHT_SECONDS);
    expect(lost.result.starts[0]!.verdict).toBe("done");
    const record = lost.state.events.get("cl-1")!;
    expect(record.state).toBe("settled");
    expect(record.outcome).toEqual({ status: "outcome_unknown", error: `reward claim rw-1: ${CLAIM_UNKNOWN_ERROR}` });
    expect(lost.result.replies[0]).toMatchObject({ kind: "settled", claims: [] });
  });

  it("records a made claim from in flight, and releases one Antavo did not take so it is due again", () => {
    const { config: withClaim, event } = claimSetup();
    const planned = sentAll(planEvents(empty(), { ...request([event]), config: withClaim }));
    const key = planned.result.replies[0]!.claims[0]!.key;
    const taken = startClaims(planned.state, [{ eventId: "cl-1", key }], 100).state;
    const released = completeClaims(taken, withClaim, [{ eventId: "cl-1", key, result: { status: "released" } }]);
    expect(released.state.events.get("cl-1")!.claims[0]!.status).toBe("pending");
    const again = startClaims(released.state, [{ eventId: "cl-1", key }], 200);
    expect(again.result.starts[0]!.verdict).toBe("go");
    const made = completeClaims(again.state, withClaim, [
      { eventId: "cl-1", key, result: { status: "claimed", answer: { id: "cp-1" } } },
    ]);
    expect(made.state.events.get("cl-1")!.claims[0]).toMatchObject({ status: "claimed", answer: { id: "cp-1" } });
    expect(made.state.events.get("cl-1")!.outcome).toEqual({ status: "delivered" });
  });

  it("on an admin replay makes a refused claim again, but never a made one or one whose answer was lost", () => {
    const { config: withClaim, event } = claimSetup();
    const planned = planEvents(empty(), { ...request([event]), config: withClaim });
    const key = planned.result.replies[0]!.claims[0]!.key;
    const taken = startClaims(planned.state, [{ eventId: "cl-1", key }], 100).state;
    // Bloomreach refused every command (nothing delivered) after the claim was made.
    const made = completeClaims(taken, withClaim, [
      { eventId: "cl-1", key, result: { status: "claimed", answer: { id: "cp-1" } } },
    ]).state;
    const refused = planned.result.replies[0]!.pending.map((c) => ({ id: c.id, error: "refused" }));
    const dead = settle(made, [{ eventId: "cl-1", run: 0, delivered: [], dead: refused }]).state;
    const replayed = planEvents(dead, { ...request([event], 300), config: withClaim, replay: ["cl-1"] });
    expect(replayed.result.replies[0]!.claims).toEqual([]);
    expect(replayed.state.events.get("cl-1")!.claims[0]).toMatchObject({ status: "claimed" });
    expect(replayed.result.replies[0]!.pending.map((c) => c.id)).toEqual(refused.map((r) => r.id));

    const sent = sentAll(planEvents(empty(), { ...request([event]), config: withClaim }));
    const lost = startClaims(
      startClaims(sent.state, [{ eventId: "cl-1", key }], 100).state,
      [{ eventId: "cl-1", key }],
      100 + CLAIM_INFLIGHT_SECONDS,
    ).state;
    expect(lost.events.get("cl-1")!.outcome?.status).toBe("outcome_unknown");
    const again = planEvents(lost, { ...request([event], 2000), config: withClaim, replay: ["cl-1"] });
    expect(again.result.replies[0]!.claims).toEqual([]);
    expect(again.state.events.get("cl-1")!.outcome?.status).toBe("outcome_unknown");
  });

  it("keeps a lost claim lost on a replay even when nothing else reached Bloomreach, and re-makes a refused one", () => {
    const { config: withClaim, event } = claimSetup();
    const planned = planEvents(empty(), { ...request([event]), config: withClaim });
    const key = planned.result.replies[0]!.claims[0]!.key;
    const ask = [{ eventId: "cl-1", key }];
    const lost = startClaims(startClaims(planned.state, ask, 100).state, ask, 100 + CLAIM_INFLIGHT_SECONDS).state;
    const refused = planned.result.replies[0]!.pending.map((c) => ({ id: c.id, error: "refused" }));
    const dead = settle(lost, [{ eventId: "cl-1", run: 0, delivered: [], dead: refused }]).state;
    expect(dead.events.get("cl-1")!.outcome?.status).toBe("dead");
    const replayed = planEvents(dead, { ...request([event], 3000), config: withClaim, replay: ["cl-1"] });
    expect(replayed.result.replies[0]!.claims).toEqual([]);
    expect(replayed.state.events.get("cl-1")!.claims[0]!.status).toBe("unknown");

    const sent = sentAll(planEvents(empty(), { ...request([event]), config: withClaim }));
    const taken = startClaims(sent.state, ask, 100).state;
    const refusedClaim = completeClaims(taken, withClaim, [
      { eventId: "cl-1", key, result: { status: "dead", error: "reward not found" } },
    ]).state;
    expect(refusedClaim.events.get("cl-1")!.outcome).toEqual({
      status: "dead",
      error: "reward claim rw-1: reward not found",
    });
    const again = planEvents(refusedClaim, { ...request([event], 300), config: withClaim, replay: ["cl-1"] });
    expect(again.result.replies[0]!.claims.map((c) => c.key)).toEqual([key]);
  });

  it("takes a late answer for a claim given up as lost, and sends what follows it", () => {
    const { config: withClaim, event } = claimSetup(true);
    const sent = sentAll(planEvents(empty(), { ...request([event]), config: withClaim }));
    const key = sent.result.replies[0]!.claims[0]!.key;
    const ask = [{ eventId: "cl-1", key }];
    const lost = startClaims(startClaims(sent.state, ask, 100).state, ask, 100 + CLAIM_INFLIGHT_SECONDS).state;
    expect(lost.events.get("cl-1")!.state).toBe("settled");
    const late = completeClaims(lost, withClaim, [
      { eventId: "cl-1", key, result: { status: "claimed", answer: { id: "cp-9" } } },
    ]);
    const record = late.state.events.get("cl-1")!;
    expect(record.state).toBe("planned");
    expect(late.result[0]!.pending.map((c) => c.command)).toEqual([
      expect.objectContaining({
        name: "customers/events",
        data: expect.objectContaining({ event_type: "reward_given" }),
      }),
    ]);
    const done = settle(late.state, [
      { eventId: "cl-1", run: 0, delivered: late.result[0]!.pending.map((c) => c.id), dead: [] },
    ]);
    expect(done.state.events.get("cl-1")!.outcome).toEqual({ status: "delivered" });
  });

  it("drops a field update older than one already sent", () => {
    const newer = relayEvent({
      id: "n-1",
      customerId: "c",
      customer: { email: "c@example.com", score: 9 },
      createdAt: 2_000,
    });
    const older = relayEvent({
      id: "o-1",
      customerId: "c",
      customer: { email: "c@example.com", score: 3 },
      createdAt: 1_000,
    });
    const first = planEvents(empty(), request([newer]));
    const second = planEvents(first.state, request([older]));
    expect(second.result.replies[0]!.pending.map((c) => c.command.name)).toEqual(["customers/events"]);
  });

  it("lists settled records past the retention for pruning, and keeps unsettled ones", () => {
    const planned = planEvents(empty(), request([relayEvent({ id: "old-1", customerId: "c" })], 10));
    const done = settle(planned.state, [{ eventId: "old-1", delivered: ["old-1#0", "old-1#1"], dead: [] }]);
    const open = planEvents(done.state, request([relayEvent({ id: "old-2", customerId: "c" })], 10));
    expect(expiredEvents(open.state.events, 40 * 24 * 3600)).toEqual(["old-1"]);
    expect(expiredEvents(open.state.events, 20 * 24 * 3600)).toEqual([]);
  });
});
