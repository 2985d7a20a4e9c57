/**
 * Stage 4, send: every pending command of the batch to the sink, many customers together in calls
 * of at most the sink's size (50 for Bloomreach and for Antavo's bulk events), under its rate limit, a customer's commands in order across calls; each command's
 * fate comes back as a value (delivered, retry, dead, paused, outcome_unknown).
 */
import type { BatchResult } from "../../bloomreach/client";
import { chunk } from "../../db/client";
import { type CommandResult, combineOutcomes, namingRefusal } from "../../domain/delivery-outcome";
import type { OutgoingCommand } from "../../durable/customer-sync";
import { forEachConcurrently } from "../../lib/concurrency";
import { errorMessage, logger } from "../../lib/logger";
import { addAttempt, byCustomer, CALL_CONCURRENCY, type Pipeline } from "./batch";

/** Sends every pending command; answers the reason when Bloomreach refused the credentials. */
export async function sendCommands(p: Pipeline): Promise<string | undefined> {
  const calls = chunk(outgoingInOrder(p), p.sink.maxCommands);
  const after = callDependencies(calls);
  const done = calls.map(() => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  });
  let pausedReason: string | undefined;

  await forEachConcurrently(calls, CALL_CONCURRENCY, async (call, index) => {
    // A customer whose commands span two calls gets them in order: the later call waits.
    await Promise.all(after[index]!.map((i) => done[i]!.promise));
    if (pausedReason) {
      for (const { command } of call) p.commandResults.set(command.id, { status: "paused", error: pausedReason });
    } else {
      const startedAt = p.now();
      const result = await sendOrRetry(p, call);
      if (result.authFailure)
        pausedReason = `${result.authFailure.status} from ${p.sink.name}: ${result.authFailure.message}`;
      recordCall(p, call, result, startedAt, pausedReason);
    }
    done[index]!.resolve();
  });
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

/**
 * The sink's answer, or, when something before the vendor throws (the rate limiter's object, the
 * Antavo budget), a retry of this call's commands: the other calls' outcomes must still be
 * recorded, and a call waiting on this one must not wait forever.
 */
async function sendOrRetry(p: Pipeline, call: Outgoing[]): Promise<BatchResult> {
  try {
    return await p.sink.send(call.map((c) => c.command.command));
  } catch (error) {
    const reason = `${p.sink.name} call not made: ${errorMessage(error)}`;
    logger.error(reason, { commands: call.length });
    return { durationMs: 0, requestBody: "", outcomes: call.map(() => ({ status: "retry", error: reason })) };
  }
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
  const perEvent = new Map<string, { commands: OutgoingCommand[]; outcomes: CommandResult[]; answers: unknown[] }>();
  call.forEach(({ eventId, command }, index) => {
    const outcome = result.outcomes[index] ?? { status: "retry" as const, error: "no result for the command" };
    const commandResult: CommandResult = result.authFailure
      ? { status: "paused", error: pausedReason! }
      : resendIfHarmless(command, outcome);
    p.commandResults.set(command.id, commandResult);
    const entry = perEvent.get(eventId) ?? { commands: [], outcomes: [], answers: [] };
    entry.commands.push(command);
    entry.outcomes.push(commandResult);
    if (result.answer) entry.answers.push(result.answer.results[index] ?? null);
    perEvent.set(eventId, entry);
  });
  for (const [eventId, { commands, outcomes, answers }] of perEvent) {
    const combined = combineOutcomes(outcomes.map((o, i) => namingRefusal(commands[i]!.command, o, p.sink.name)));
    addAttempt(p, eventId, {
      attempt: p.jobs.get(eventId)!.attempt,
      target: p.sink.target,
      outcome: combined.status,
      ...(result.httpStatus !== undefined ? { httpStatus: result.httpStatus } : {}),
      ...(combined.status !== "delivered" ? { error: combined.error } : {}),
      request: JSON.stringify(commands.map((c) => c.command)),
      // The event's own results; the raw body only when the call failed as a whole (it holds the
      // reason), so a healthy batch is not stored once per event it carried. A batch answer is kept
      // as the event's part of it (its commands' results, in Bloomreach's words).
      response: JSON.stringify({
        httpStatus: result.httpStatus,
        results: outcomes,
        batchSize: call.length,
        ...(result.httpStatus !== 200 && result.responseBody ? { body: result.responseBody } : {}),
        ...(result.answer ? { body: JSON.stringify({ ...result.answer.fields, results: answers }) } : {}),
      }),
      durationMs: result.durationMs,
      startedAt,
    });
  }
}
