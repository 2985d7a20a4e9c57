/** The Antavo API as the pipeline uses it: the signed client under the shared per-minute budget. */
import { budgetedAntavoClient } from "../../antavo/budget";
import { type AntavoClient, createAntavoClient } from "../../antavo/client";
import type { Settings } from "../../domain/config";
import type { AntavoCredentials } from "../config";
import type { DeliveryDeps } from "./batch";
import { sleepFor } from "./ports";

/** The Antavo client under the budget every Antavo call shares, one per Antavo API host. */
export function antavoClientFor(deps: DeliveryDeps, credentials: AntavoCredentials, settings: Settings): AntavoClient {
  const client = createAntavoClient(credentials, { fetch: deps.fetch, timeoutMs: deps.vendorTimeoutMs });
  const limiter = deps.rateLimiter.get(deps.rateLimiter.idFromName(`antavo:${new URL(credentials.baseUrl).host}`));
  const clock = deps.nowMs ?? Date.now;
  const perSecond = settings.antavoRateLimitPerMinute / 60;
  return budgetedAntavoClient(
    client,
    { reserve: () => limiter.reserve(perSecond, clock()), backOff: (ms) => limiter.backOff(ms, clock()) },
    sleepFor(deps),
  );
}
