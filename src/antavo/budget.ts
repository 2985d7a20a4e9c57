/**
 * The one budget every Antavo call shares (enrichment, reward claims, events): Antavo allows 1,500
 * requests a minute on a shared stack, so the relay spends at most `antavoRateLimitPerMinute` across
 * all its consumers and webhooks. Each call first takes a permit (waiting if the budget is spent);
 * an Antavo 429 pauses the budget for its Retry-After, so the calls queued behind it slow down
 * instead of meeting 429s of their own.
 */
import type { AntavoClient, AntavoFailure, SendEventsResult } from "./client";

export interface AntavoBudget {
  /** Milliseconds to wait before the call. */
  reserve(): Promise<number>;
  backOff(ms: number): Promise<void>;
}

/** Without Retry-After, a 429 pauses the budget this long. */
const DEFAULT_BACK_OFF_MS = 1_000;
/**
 * A longer wait is not slept through (it would hold a consumer batch): the call is not made and
 * comes back as a retry after the wait, like Antavo's own 429.
 */
export const MAX_BUDGET_WAIT_MS = 10_000;

export function budgetedAntavoClient(
  client: AntavoClient,
  budget: AntavoBudget,
  sleep: (ms: number) => Promise<void>,
): AntavoClient {
  async function spend<T extends { status: string }>(call: () => Promise<T>): Promise<T> {
    const wait = await budget.reserve();
    if (wait > MAX_BUDGET_WAIT_MS) {
      const seconds = Math.ceil(wait / 1000);
      return {
        status: "retry",
        error: `the Antavo budget is spent; next call in ${seconds} s`,
        retryAfterSeconds: seconds,
      } as unknown as T;
    }
    if (wait > 0) await sleep(wait);
    const result = await call();
    const failure = result as unknown as AntavoFailure;
    if (failure.status === "retry" && failure.rateLimited) {
      await budget.backOff(failure.retryAfterSeconds ? failure.retryAfterSeconds * 1000 : DEFAULT_BACK_OFF_MS);
    }
    return result;
  }
  /** One call for up to 50 events: one permit, like any other Antavo call. */
  async function sendEvents(events: Parameters<AntavoClient["sendEvents"]>[0]): Promise<SendEventsResult> {
    const wait = await budget.reserve();
    if (wait > MAX_BUDGET_WAIT_MS) {
      const seconds = Math.ceil(wait / 1000);
      const error = `the Antavo budget is spent; next call in ${seconds} s`;
      return {
        outcomes: events.map(() => ({ status: "retry", error, retryAfterSeconds: seconds })),
        durationMs: 0,
        requestBody: "",
      };
    }
    if (wait > 0) await sleep(wait);
    const result = await client.sendEvents(events);
    if (result.rateLimited) {
      const after = result.rateLimited.retryAfterSeconds;
      await budget.backOff(after ? after * 1000 : DEFAULT_BACK_OFF_MS);
    }
    return result;
  }
  return {
    getCustomer: (id) => spend(() => client.getCustomer(id)),
    claimReward: (customerId, rewardId, options) => spend(() => client.claimReward(customerId, rewardId, options)),
    sendEvents,
  };
}
