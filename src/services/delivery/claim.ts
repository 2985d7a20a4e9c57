/**
 * Stage 3, claim: the reward claims the plans asked for, through Antavo, each recorded in the
 * customer's object (so a claim Antavo confirmed is never made again) before the actions after it
 * are rendered.
 */
import type { ClaimResult } from "../../durable/customer-sync";
import { addAttempt, byCustomer, MAX_CLAIM_ROUNDS, type Pipeline, perCustomer } from "./batch";

export async function performClaims(p: Pipeline) {
  for (let round = 0; round < MAX_CLAIM_ROUNDS; round++) {
    const due = [...p.replies.values()].flatMap((reply) => reply.claims.map((claim) => ({ reply, claim })));
    if (due.length === 0) return;
    if (!p.antavo) {
      for (const { reply } of due)
        p.extra.set(reply.eventId, [{ status: "retry", error: "reward claim waits for the Antavo API connection" }]);
      return;
    }
    const completed: (ClaimResult & { customerId: string })[] = [];
    for (const { reply, claim } of due) {
      const started = Date.now();
      const result = await p.antavo.claimReward(claim.action.customerId, claim.action.rewardId, {
        free: claim.action.free,
      });
      const job = p.jobs.get(reply.eventId)!;
      addAttempt(p, reply.eventId, {
        attempt: job.attempt,
        target: "antavo",
        outcome: result.status === "claimed" ? "delivered" : result.status,
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
        continue;
      }
      completed.push({
        eventId: reply.eventId,
        customerId: job.event.customerId,
        key: claim.key,
        result:
          result.status === "claimed"
            ? { status: "claimed", answer: result.claim }
            : { status: "dead", error: result.error },
      });
    }
    if (completed.length === 0) return;
    await Promise.all(
      [...byCustomer(completed)].map(async ([customerId, results]) => {
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
      }),
    );
    // A claim that must be retried waits for the next attempt; only completed ones lead on.
    for (const [eventId] of p.extra) {
      const reply = p.replies.get(eventId);
      if (reply) p.replies.set(eventId, { ...reply, claims: [] });
    }
  }
}
