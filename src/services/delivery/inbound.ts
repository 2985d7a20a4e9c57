/**
 * The first stage of the other direction (DESIGN 4.4), in place of plan → enrich → claim: each
 * Bloomreach event finds its Antavo customer in the mirror by the hard ID, its rule renders the
 * Antavo event, and the customer's CustomerSync object records it (once) and marks what goes out in
 * flight. The events then go through the same send → settle → log stages as Bloomreach commands,
 * to the Antavo events sink. An event with no customer, or no rule any more, ends dead with the reason.
 */
import type { Database } from "../../db/client";
import type { AntavoEventData } from "../../domain/commands";
import type { Mapping } from "../../domain/config";
import { findRule, type InboundRule, renderAntavoEvent } from "../../domain/inbound-rules";
import { bloomreachView, matchCustomers } from "../inbound";
import { byCustomer, type Pipeline, perCustomer } from "./batch";

/** What the stage reads besides the batch: the rules and the hard ID, loaded once per batch. */
export interface InboundConfig {
  db: Database;
  rules: InboundRule[];
  mapping: Mapping;
}

interface PlannedEvent {
  customerId: string;
  eventId: string;
  eventType: string;
  event: AntavoEventData;
  /** Event time, then receipt: the customer's order. */
  at: [number, number];
}

export async function resolveAndPlanAntavo(p: Pipeline, { db, rules, mapping }: InboundConfig, now: number) {
  const match = await matchCustomers(
    db,
    mapping,
    [...p.jobs.values()].map((j) => j.event.customerId),
  );
  const planned: PlannedEvent[] = [];
  for (const [eventId, job] of p.jobs) {
    const rule = findRule(rules, job.event.action);
    if (!rule) {
      p.extra.set(eventId, [
        { status: "dead", error: `no inbound rule covers the Bloomreach event type "${job.event.action}" any more` },
      ]);
      continue;
    }
    if (!mapping.hardId) {
      p.extra.set(eventId, [
        { status: "dead", error: "the hard ID is not mapped, so no Antavo customer can be found" },
      ]);
      continue;
    }
    const customer = match(job.event.customerId);
    if (customer.status !== "found") {
      p.extra.set(eventId, [{ status: "dead", error: customer.reason }]);
      continue;
    }
    // From here on the event is the Antavo customer's: its object orders it, the log names it.
    p.jobs.set(eventId, { ...job, event: { ...job.event, customerId: customer.id } });
    planned.push({
      customerId: customer.id,
      eventId,
      eventType: job.event.action,
      event: renderAntavoEvent(rule, bloomreachView(job.event), customer.id),
      at: [job.event.createdAt, job.event.receivedAt],
    });
  }
  const replay = [...p.jobs.values()].filter((j) => j.replay).map((j) => j.event.id);
  await Promise.all(
    [...byCustomer(planned)].map(async ([customerId, items]) => {
      // The customer's events in event-time order: the object records them, the send stage keeps it.
      items.sort((a, b) => a.at[0] - b.at[0] || a.at[1] - b.at[1]);
      const events = items.map((i) => p.jobs.get(i.eventId)!.event);
      const replies = await perCustomer(p, events, "planning the Antavo events", () =>
        p.store.planAntavo(customerId, {
          events: items.map(({ eventId, eventType, event }) => ({ eventId, eventType, event })),
          replay: replay.filter((id) => items.some((i) => i.eventId === id)),
          now,
        }),
      );
      for (const reply of replies ?? []) p.replies.set(reply.eventId, reply);
    }),
  );
}
