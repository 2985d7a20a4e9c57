/**
 * Stage 5, settle: the sink's answers, recorded before the ack so a crash after a successful call
 * never sends the event again (invariants 2, 3). Two ways, one request shape:
 * - through the outbox (the Bloomreach direction): the requests go to D1 with the delivery log, in
 *   the same batch, and the customer's next plan call (or the minute sweep) hands them to its
 *   object — one object round trip per customer per batch instead of two;
 * - directly (the Antavo direction, or when the log write failed): each customer's object records
 *   them now, alongside the log write.
 * For a sink that guards in-flight commands (Antavo), a retry releases them, so only a crash leaves
 * them in flight.
 */
import type { NewSettlement } from "../../db/settlement-queries";
import { logger } from "../../lib/logger";
import { byCustomer, type Pipeline } from "./batch";
import type { CustomerStore } from "./ports";

/**
 * The object keeps a reason, not the vendor's whole answer (that is in the attempt row): a long
 * error page must not make the batch's log write too large for D1.
 */
const MAX_REASON = 500;
const brief = (error: string) => (error.length > MAX_REASON ? `${error.slice(0, MAX_REASON)}…` : error);

/** What each planned event's commands came to, as settle requests for the customers' objects. */
export function settlementsOf(p: Pipeline): NewSettlement[] {
  const settles: NewSettlement[] = [];
  for (const reply of p.replies.values()) {
    if (reply.pending.length === 0) continue;
    const delivered: string[] = [];
    const dead: { id: string; error: string }[] = [];
    const unknown: { id: string; error: string }[] = [];
    const released: string[] = [];
    for (const command of reply.pending) {
      const result = p.commandResults.get(command.id);
      if (result?.status === "delivered") delivered.push(command.id);
      if (result?.status === "dead") dead.push({ id: command.id, error: brief(result.error) });
      if (result?.status === "outcome_unknown") unknown.push({ id: command.id, error: brief(result.error) });
      // Not taken by the call (or never sent): safe to send again.
      if (p.sink.guardsInFlight && (!result || result.status === "retry" || result.status === "paused"))
        released.push(command.id);
    }
    if (delivered.length + dead.length + unknown.length + released.length > 0)
      settles.push({
        eventId: reply.eventId,
        run: reply.run,
        customerId: p.jobs.get(reply.eventId)!.event.customerId,
        delivered,
        dead,
        unknown,
        ...(released.length > 0 ? { released } : {}),
      });
  }
  return settles;
}

/**
 * Records the requests in the customers' objects now (the Antavo direction, a failed log write, the
 * outbox's sweep); answers the events whose object could not, with the note for their log row.
 */
export async function settleInObjects(
  store: Pick<CustomerStore, "settle">,
  settles: NewSettlement[],
): Promise<Map<string, string>> {
  const unrecorded = new Map<string, string>();
  await Promise.all(
    [...byCustomer(settles)].map(async ([customerId, batch]) => {
      try {
        await store.settle(
          customerId,
          batch.map(({ customerId: _customer, ...request }) => request),
        );
      } catch (error) {
        // The vendor has the commands: the events stay delivered (a resend would duplicate them),
        // and the log says the object could not record it.
        const note = `the customer's object could not record the outcome: ${(error as Error).message}`;
        logger.error(note, { customerId });
        for (const { eventId } of batch) unrecorded.set(eventId, note);
      }
    }),
  );
  return unrecorded;
}
