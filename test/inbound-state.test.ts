/**
 * The pure parts of the other direction: an inbound rule's templates (a single placeholder keeps
 * its type, a missing one leaves the key out), and the customer state machine's in-flight guard
 * for Antavo events (a crash between the call and its record ends outcome_unknown, never a resend;
 * a retry releases the event; a confirmed event is never pending again).
 */
import { describe, expect, it } from "vitest";
import { type CustomerState, planAntavoEvents, settle } from "../src/domain/customer-state";
import { InboundRuleSchema, renderAntavoEvent } from "../src/domain/inbound-rules";

const empty = (): CustomerState => ({ snapshot: { data: {}, at: 0 }, fields: {}, events: new Map() });
const request = (eventId = "e1", replay: string[] = []) => ({
  events: [
    { eventId, eventType: "newsletter_signup", event: { customer: "c1", action: "point_add", data: { points: 50 } } },
  ],
  replay,
  now: 100,
});

describe("inbound rule templates", () => {
  const rule = InboundRuleSchema.parse({
    eventType: "survey",
    antavoAction: "point_add",
    data: {
      points: "{{properties.points}}",
      note: "answer {{properties.answer}} by {{customer_ids.registered}}",
      at: "{{timestamp}}",
      missing: "{{properties.none}}",
      nested: { count: "{{properties.items|count}}", list: ["{{properties.none}}", "x"] },
    },
  });
  it("renders over the Bloomreach event, keeping a single placeholder's type", () => {
    const event = renderAntavoEvent(
      rule,
      {
        event_type: "survey",
        customer_ids: { registered: "a@b.com" },
        properties: { points: 7, answer: "yes", items: [1, 2] },
        timestamp: 1_700_000_000,
      },
      "ant-1",
    );
    expect(event).toEqual({
      customer: "ant-1",
      action: "point_add",
      data: { points: 7, note: "answer yes by a@b.com", at: 1_700_000_000, nested: { count: 2, list: ["x"] } },
    });
  });
  it("refuses unknown roots and paths with the path of the value", () => {
    const bad = InboundRuleSchema.safeParse({
      eventType: "x",
      antavoAction: "y",
      data: { a: "{{customer.email}}", b: { c: "{{timestamp.at}}" }, d: "{{properties}}" },
    });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join("."))).toEqual(["data.a", "data.b.c", "data.d"]);
  });
});

describe("Antavo events in the customer's state", () => {
  it("marks a new event in flight, and a later attempt that finds it so ends it outcome_unknown", () => {
    const first = planAntavoEvents(empty(), request());
    expect(first.result[0]).toMatchObject({ kind: "send", pending: [{ id: "e1#0" }] });
    expect(first.state.events.get("e1")?.inflight).toEqual(["e1#0"]);
    const again = planAntavoEvents(first.state, request());
    expect(again.result[0]).toMatchObject({ kind: "settled", pending: [], outcome: { status: "outcome_unknown" } });
  });

  it("sends again after a retry released the event, and never after Antavo confirmed it", () => {
    const first = planAntavoEvents(empty(), request());
    const released = settle(first.state, [{ eventId: "e1", delivered: [], dead: [], released: ["e1#0"] }]);
    expect(released.state.events.get("e1")?.inflight).toEqual([]);
    const retry = planAntavoEvents(released.state, request());
    expect(retry.result[0]).toMatchObject({ kind: "send", pending: [{ id: "e1#0" }] });
    const confirmed = settle(retry.state, [{ eventId: "e1", delivered: ["e1#0"], dead: [] }]);
    const redelivered = planAntavoEvents(confirmed.state, request());
    expect(redelivered.result[0]).toMatchObject({ kind: "settled", pending: [], outcome: { status: "delivered" } });
  });

  it("plans an outcome_unknown event again only when an admin replays it", () => {
    const first = planAntavoEvents(empty(), request());
    const unknown = planAntavoEvents(first.state, request());
    expect(planAntavoEvents(unknown.state, request()).result[0]?.kind).toBe("settled");
    const replayed = planAntavoEvents(unknown.state, request("e1", ["e1"]));
    expect(replayed.result[0]).toMatchObject({ kind: "send", pending: [{ id: "e1#0" }] });
  });
});
