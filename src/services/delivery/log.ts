/**
 * Stage 6, log: each event's outcome from its commands and the stages' failures, scheduled by the
 * retry policy, and the delivery log, the mirror and the workflows' last runs written in one D1 batch.
 */
import type { BatchSideWrites, DeliveryEntry } from "../../db/delivery-queries";
import { type CommandResult, combineOutcomes, type EventOutcome, namingRefusal } from "../../domain/delivery-outcome";
import type { Direction } from "../../domain/event";
import { directionOf } from "../../domain/event";
import { MAX_DELIVERY_ATTEMPTS, retryDelaySeconds } from "../../domain/retry-policy";
import { errorMessage, logger } from "../../lib/logger";
import type { DeliveryJob, DeliveryOutcome, DeliveryReport, Pipeline } from "./batch";
import type { DeliveryLog } from "./ports";
import { settleInObjects, settlementsOf } from "./settle";

function eventOutcome(p: Pipeline, eventId: string): EventOutcome {
  const reply = p.replies.get(eventId);
  const extra = p.extra.get(eventId) ?? [];
  if (!reply) return combineOutcomes(extra);
  if (reply.kind === "settled" && extra.length === 0) return reply.outcome!;
  const commandOf = new Map(reply.commands.map((c) => [c.id, c.command]));
  const named = (id: string, result: CommandResult) => {
    const command = commandOf.get(id);
    return command ? namingRefusal(command, result, p.sink.name) : result;
  };
  return combineOutcomes([
    ...extra,
    ...reply.pending.map((c) => named(c.id, p.commandResults.get(c.id) ?? { status: "retry", error: "not sent" })),
    ...reply.refused.map((r) => named(r.id, { status: "dead", error: r.error })),
    ...reply.unknown.map((r) => ({ status: "outcome_unknown" as const, error: r.error })),
    // Claims decide the event too: refused or lost ones, and any the claim stage left due.
    ...(reply.claimOutcomes ?? []),
    ...reply.claims.map(() => ({ status: "retry" as const, error: "reward claim not made yet" })),
  ]);
}

/** Retries are scheduled by the retry policy until its budget is spent; then the event is dead. */
function schedule(outcome: EventOutcome, attempt: number): DeliveryOutcome {
  if (outcome.status !== "retry") return outcome;
  if (attempt >= MAX_DELIVERY_ATTEMPTS)
    return { status: "dead", error: `gave up after ${attempt} attempts: ${outcome.error}` };
  return { ...outcome, delaySeconds: retryDelaySeconds(attempt, { retryAfterSeconds: outcome.retryAfterSeconds }) };
}

/**
 * Writes the log, and records the outcomes before the caller acks (settle.ts): with the outbox, in
 * the log's own D1 batch; otherwise in the objects, alongside the log write.
 */
export async function finish(p: Pipeline, now: number): Promise<DeliveryReport> {
  const outcomes = new Map<string, DeliveryOutcome>();
  const planned = new Map<string, number>();
  const entries: DeliveryEntry[] = [];
  for (const [eventId, job] of p.jobs) {
    planned.set(eventId, p.replies.get(eventId)?.commands.length ?? 0);
    const outcome = schedule(eventOutcome(p, eventId), job.attempt);
    outcomes.set(eventId, outcome);
    const attempts = p.attempts.get(eventId) ?? [];
    // A first try that Bloomreach took in full needs no attempt rows: the delivery row holds its
    // commands, and the detail view shows that attempt from it (most of the log's size otherwise).
    // A replay's first try is kept: the log already holds the run it follows.
    const healthy =
      job.attempt === 1 &&
      !job.replay &&
      outcome.status === "delivered" &&
      attempts.length > 0 &&
      attempts.every((a) => a.target === p.sink.target && a.outcome === "delivered");
    entries.push({
      eventId,
      customerId: job.event.customerId,
      action: job.event.action,
      direction: directionOf(job.event),
      status: outcome.status === "retry" ? "retrying" : outcome.status,
      commands: (p.replies.get(eventId)?.commands ?? []).map(({ id, command, source }) => ({ id, source, command })),
      ...(outcome.status !== "delivered" ? { lastError: outcome.error } : {}),
      ...(outcome.status === "retry" ? { nextAttemptAt: now + outcome.delaySeconds } : {}),
      warnings: [...(p.replies.get(eventId)?.warnings ?? []), ...(p.notes.get(eventId) ?? [])],
      attempts: healthy ? [] : attempts,
      ...(healthy ? { unloggedCalls: attempts.length } : {}),
    });
  }
  const ran = new Set<string>();
  for (const reply of p.replies.values())
    for (const { source } of reply.pending) if (source.kind === "workflow") ran.add(source.workflowId);
  const side = { mirrors: p.mirrors, workflowsRun: [...ran] };
  const settles = settlementsOf(p);
  if (p.outbox) {
    const outbox = { settlements: settles, appliedSettlements: p.outbox.applied };
    if (await tryLog(p.log, entries, now, { ...side, ...outbox })) return { outcomes, planned, logged: true };
    // Neither the log nor the outbox was written: the objects record the outcomes before the
    // retry, so the redelivery finds them settled and sends nothing twice.
    await settleInObjects(p.store, settles);
    return { outcomes, planned, logged: false };
  }
  const [logged, unrecorded] = await Promise.all([
    tryLog(p.log, entries, now, side),
    settleInObjects(p.store, settles),
  ]);
  if (unrecorded.size === 0) return { outcomes, planned, logged };
  // An event whose object could not record its outcome gets the note in a second, small write.
  // Same rows again with the note only: no attempts (the row's count adds what a write carries).
  const noted = entries
    .filter((e) => unrecorded.has(e.eventId))
    .map(({ unloggedCalls: _calls, ...e }) => ({
      ...e,
      attempts: [],
      warnings: [...(e.warnings ?? []), unrecorded.get(e.eventId)!],
    }));
  return { outcomes, planned, logged: (await tryLog(p.log, noted, now)) && logged };
}

/**
 * A batch that cannot be sent at all (no connection, or a paused one): each event gets `outcome`
 * (a retry scheduled by the policy, like any other) and a log row saying why, without commands.
 */
export async function finishUnsent(
  log: DeliveryLog,
  jobs: DeliveryJob[],
  outcome: Extract<EventOutcome, { status: "paused" | "retry" }>,
  direction: Direction,
  now: number,
): Promise<DeliveryReport> {
  const outcomes = new Map<string, DeliveryOutcome>();
  const entries = jobs.map((job): DeliveryEntry => {
    const scheduled = schedule(outcome, job.attempt);
    outcomes.set(job.event.id, scheduled);
    return {
      eventId: job.event.id,
      customerId: job.event.customerId,
      action: job.event.action,
      direction,
      status: scheduled.status === "retry" ? "retrying" : scheduled.status,
      commands: [],
      lastError: outcome.error,
      ...(scheduled.status === "retry" ? { nextAttemptAt: now + scheduled.delaySeconds } : {}),
      attempts: [],
    };
  });
  return { outcomes, logged: await tryLog(log, entries, now) };
}

/** The log, the mirror and the workflows' last runs: one D1 batch for the whole delivery batch. */
export async function tryLog(
  log: DeliveryLog,
  entries: DeliveryEntry[],
  now: number,
  side: BatchSideWrites = {},
): Promise<boolean> {
  try {
    await log.write(entries, now, side);
    return true;
  } catch (error) {
    logger.error("delivery log write failed", { error: errorMessage(error), events: entries.length });
    return false;
  }
}
