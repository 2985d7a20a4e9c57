/**
 * Stage 3, claim: the reward claims the plans asked for, through Antavo. Each is taken in the
 * customer's object before the call and recorded there after it (Antavo has no idempotency key:
 * a claim is made at most once, and one whose answer was lost ends outcome_unknown rather than
 * being made again), before the actions after it are rendered.
 */
import type { ClaimRewardResult } from "../../antavo/client";
import type { PendingClaim } from "../../domain/plan-event";
import type { ClaimResult, PlanReply } from "../../durable/customer-sync";
import { errorMessage } from "../../lib/logger";
import { addAttempt, byCustomer, MAX_CLAIM_ROUNDS, type Pipeline, perCustomer } from "./batch";
import type { AntavoApi } from "./ports";

export async function performClaims(p: Pipeline) {
  for (let round = 0; round < MAX_CLAIM_ROUNDS; round++) {
    const listed = [...p.replies.values()].flatMap((reply) => reply.claims.map((claim) => ({ reply, claim })));
    if (listed.length === 0) return;
    if (!p.antavo) {
      for (const { reply } of listed)
        p.extra.set(reply.eventId, [{ status: "retry", error: "reward claim waits for the Antavo API connection" }]);
      return;
    }
    // One customer at a time: its claims are taken just before their calls and recorded right
    // after, so a crash leaves at most one customer's claims in flight (to end unknown).
    const byCustomerId = byCustomer(
      listed.map((l) => ({ ...l, customerId: p.jobs.get(l.reply.eventId)!.event.customerId })),
    );
    for (const [customerId, items] of byCustomerId) {
      const due = await takeClaims(p, customerId, items);
      const completed: ClaimResult[] = [];
      for (const item of due) completed.push(await makeClaim(p, p.antavo, item));
      if (completed.length > 0) await recordClaims(p, customerId, completed);
    }
    // A claim that must be retried waits for the next attempt; only completed ones lead on.
    for (const [eventId] of p.extra) {
      const reply = p.replies.get(eventId);
      if (reply) p.replies.set(eventId, { ...reply, claims: [] });
    }
  }
}

/** Makes one claim in Antavo, logs it as the event's attempt, and answers what to record. */
async function makeClaim(p: Pipeline, antavo: AntavoApi, { reply, claim }: Listed): Promise<ClaimResult> {
  const started = Date.now();
  const result = await claimOrRelease(antavo, claim);
  const job = p.jobs.get(reply.eventId)!;
  addAttempt(p, reply.eventId, {
    attempt: job.attempt,
    target: "antavo",
    outcome:
      result.status === "claimed" ? "delivered" : result.status === "unknown" ? "outcome_unknown" : result.status,
    ...(result.status === "claimed" ? { response: JSON.stringify(result.claim) } : { error: result.error }),
    request: `claim reward ${claim.action.rewardId}${claim.action.free ? " (free)" : ""}`,
    durationMs: Date.now() - started,
    startedAt: p.now(),
  });
  if (result.status === "retry") {
    p.extra.set(reply.eventId, [
      {
        status: "retry",
        error: `reward claim: ${result.error}`,
        ...(result.retryAfterSeconds ? { retryAfterSeconds: result.retryAfterSeconds } : {}),
      },
    ]);
  }
  return {
    eventId: reply.eventId,
    key: claim.key,
    result:
      result.status === "claimed"
        ? { status: "claimed", answer: result.claim }
        : result.status === "retry"
          ? { status: "released" }
          : { status: result.status, error: result.error },
  };
}

/**
 * Antavo's answer; a throw comes from before the call (the shared budget's object), so the claim
 * was not made: it is released as a retry, not left in flight to end unknown.
 */
async function claimOrRelease(antavo: AntavoApi, claim: PendingClaim): Promise<ClaimRewardResult> {
  try {
    return await antavo.claimReward(claim.action.customerId, claim.action.rewardId, { free: claim.action.free });
  } catch (error) {
    return { status: "retry", error: `not made: ${errorMessage(error)}` };
  }
}

type Listed = { reply: PlanReply; claim: PendingClaim };

/**
 * Takes a customer's listed claims in its object before Antavo is called; answers those this
 * delivery makes. One another delivery is making leaves its event to be retried; one done (made,
 * refused, or in flight so long that its answer was lost) takes the object's reply instead.
 */
async function takeClaims(p: Pipeline, customerId: string, items: Listed[]): Promise<Listed[]> {
  const events = items.map((i) => p.jobs.get(i.reply.eventId)!.event);
  const taken = await perCustomer(p, events, "taking the reward claim", () =>
    p.store.startClaims(
      customerId,
      items.map(({ reply, claim }) => ({ eventId: reply.eventId, key: claim.key })),
      p.now(),
    ),
  );
  if (!taken) return [];
  for (const reply of taken.replies) p.replies.set(reply.eventId, reply);
  const go: Listed[] = [];
  for (const [index, start] of taken.starts.entries()) {
    const item = items[index]!;
    if (start.verdict === "go") go.push(item);
    else if (start.verdict === "busy")
      p.extra.set(item.reply.eventId, [
        { status: "retry", error: "reward claim: another delivery of this event is making it" },
      ]);
  }
  return go;
}

/** Records a customer's made, refused and released claims in its object, which renders what follows a made one. */
async function recordClaims(p: Pipeline, customerId: string, results: ClaimResult[]) {
  const events = results.map((r) => p.jobs.get(r.eventId)!.event);
  const replies = await perCustomer(p, events, "recording the reward claim", () =>
    p.store.completeClaims(customerId, p.config, results),
  );
  for (const reply of replies ?? []) p.replies.set(reply.eventId, reply);
  // A claim made this round is never due again in this batch, whatever the object answered.
  for (const { eventId, key } of results) {
    const reply = p.replies.get(eventId);
    if (reply?.claims.some((c) => c.key === key))
      p.replies.set(eventId, { ...reply, claims: reply.claims.filter((c) => c.key !== key) });
  }
}
