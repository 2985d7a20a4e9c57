/**
 * Antavo API adapter for enrichment (`GET /customers/{id}`), the `reward_claim` workflow action and
 * the other direction's events (`POST /events`, `POST /events/bulk`, DESIGN 4.4).
 * Every request is signed (./signer). Vendor behaviour comes back as values the pipeline can act on
 * (retry with backoff, or dead with Antavo's message), never as exceptions.
 */
import type { AntavoEventData } from "../domain/commands";
import { readVendorStatus } from "../domain/vendor-status";
import { type Exchange, exchange, isRecord, parseJson, redactor } from "../lib/http-exchange";
import { signAntavoRequest } from "./signer";

const DEFAULT_TIMEOUT_MS = 10_000;
/** `POST /events/bulk` is designed for up to 50 events a call. */
export const MAX_BULK_EVENTS = 50;
const MAX_RECORDED_BODY = 4096;
/** Antavo's error code for an unknown customer on `GET /customers/{id}`. */
export const ANTAVO_CUSTOMER_NOT_FOUND = "160212";

export interface AntavoConnection {
  /** e.g. `https://api.<environment>.antavo.com` */
  baseUrl: string;
  environment: string;
  apiKey: string;
  apiSecret: string;
}

export interface AntavoDeps {
  fetch: typeof fetch;
  /** Milliseconds; signs the request and reads HTTP-date Retry-After. */
  now?: () => number;
  timeoutMs?: number;
}

export type AntavoFailure =
  /** `rateLimited`: Antavo answered 429, so the shared budget should slow down (antavo/budget). */
  | { status: "retry"; error: string; retryAfterSeconds?: number; rateLimited?: true }
  | { status: "dead"; error: string };

export type GetCustomerResult =
  | { status: "found"; customer: Record<string, unknown> }
  | { status: "not_found" }
  | AntavoFailure;

/** `unknown`: the call failed on the way (timeout, reset): Antavo may have made the claim. */
export type ClaimRewardResult =
  | { status: "claimed"; claim: Record<string, unknown> }
  | { status: "unknown"; error: string }
  | AntavoFailure;

export interface ClaimOptions {
  /** Claim at price zero through the bulk-operation endpoint (`force_claim`). */
  free: boolean;
  /** Optional form fields of the paid claim endpoint. */
  points?: number;
  count?: number;
}

/** What became of one event of a call. */
export type EventOutcome =
  | { status: "delivered" }
  /** A 2xx whose answer says nothing of this event: Antavo may have it; it is never resent blindly. */
  | { status: "outcome_unknown"; error: string }
  | { status: "retry"; error: string; retryAfterSeconds?: number }
  | { status: "dead"; error: string };

export interface SendEventsResult {
  /** Exactly one per event, in request order. */
  outcomes: EventOutcome[];
  httpStatus?: number;
  durationMs: number;
  requestBody: string;
  responseBody?: string;
  /** Antavo answered 429: the shared budget backs off (antavo/budget). */
  rateLimited?: { retryAfterSeconds?: number };
}

export interface AntavoClient {
  getCustomer(id: string): Promise<GetCustomerResult>;
  claimReward(customerId: string, rewardId: string, options: ClaimOptions): Promise<ClaimRewardResult>;
  /** One event as `POST /events`, 2..50 as `POST /events/bulk`; never throws for vendor behaviour. */
  sendEvents(events: AntavoEventData[]): Promise<SendEventsResult>;
}

export function createAntavoClient(conn: AntavoConnection, deps: AntavoDeps): AntavoClient {
  const fetchFn = deps.fetch;
  const now = deps.now ?? Date.now;
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const base = conn.baseUrl.replace(/\/+$/, "");
  const redact = redactor(conn.apiSecret);

  async function send(method: "GET" | "POST", path: string, body?: { type: string; text: string }): Promise<Exchange> {
    const url = `${base}${path}`;
    const signed = await signAntavoRequest({
      method,
      url,
      body: body?.text ?? "",
      apiKey: conn.apiKey,
      apiSecret: conn.apiSecret,
      environment: conn.environment,
      now: new Date(now()),
    });
    const headers: Record<string, string> = { ...signed, accept: "application/json" };
    if (body) headers["content-type"] = body.type;
    return exchange(fetchFn, url, { method, headers, body: body?.text }, timeoutMs, redact);
  }

  /**
   * 429 and 5xx are transient (domain/vendor-status). 401/403 stay dead here, unlike Bloomreach's
   * pause: the pipeline has no pause for Antavo, and a retry would hold every enrichment and claim
   * for a day of backoff before dead-lettering them anyway. Dead lets enrichment plan with what the
   * event carries, and a refused claim is dead-lettered with Antavo's message, replayable once the
   * credentials are fixed.
   */
  function failure(result: Exchange, context: string): AntavoFailure {
    if (result.kind === "failed") return { status: "retry", error: `${context}: ${result.error}` };
    const error = `${context}: ${redact(antavoErrorMessage(result.status, result.text))}`;
    const verdict = readVendorStatus(result.status, result.headers.get("retry-after"), now());
    if (verdict.kind !== "retry") return { status: "dead", error };
    return {
      status: "retry",
      error,
      ...(verdict.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: verdict.retryAfterSeconds }),
      ...(verdict.rateLimited ? { rateLimited: true as const } : {}),
    };
  }

  async function getCustomer(id: string): Promise<GetCustomerResult> {
    const result = await send("GET", `/customers/${encodeURIComponent(id)}`);
    const context = `GET customer ${id}`;
    if (result.kind === "response" && result.status >= 200 && result.status < 300) {
      const body = parseJson(result.text);
      if (isRecord(body)) return { status: "found", customer: body };
      return { status: "dead", error: `${context}: HTTP ${result.status} without a customer object` };
    }
    if (
      result.kind === "response" &&
      result.status === 404 &&
      antavoError(result.text)?.code === ANTAVO_CUSTOMER_NOT_FOUND
    ) {
      return { status: "not_found" };
    }
    return failure(result, context);
  }

  async function claimReward(customerId: string, rewardId: string, options: ClaimOptions): Promise<ClaimRewardResult> {
    let result: Exchange;
    if (options.free) {
      result = await send("POST", `/v1/bulk-operation/reward/claim/${encodeURIComponent(rewardId)}`, {
        type: "application/json",
        text: JSON.stringify({ customers: [customerId], force_claim: true }),
      });
    } else {
      const form = new URLSearchParams();
      if (options.points !== undefined) form.set("points", String(options.points));
      if (options.count !== undefined) form.set("count", String(options.count));
      result = await send(
        "POST",
        `/customers/${encodeURIComponent(customerId)}/activities/rewards/${encodeURIComponent(rewardId)}/claim`,
        { type: "application/x-www-form-urlencoded", text: form.toString() },
      );
    }
    if (result.kind === "response" && result.status >= 200 && result.status < 300) {
      // Antavo answered 2xx, so the claim happened; an unreadable body must not cause a second claim.
      const body = parseJson(result.text);
      return { status: "claimed", claim: isRecord(body) ? body : {} };
    }
    // No idempotency key: a timeout or reset here may have claimed already, so it is not a retry.
    const context = `claim reward ${rewardId} for ${customerId}`;
    if (result.kind === "failed") return { status: "unknown", error: `${context} (outcome unknown): ${result.error}` };
    return failure(result, context);
  }

  async function sendEvents(events: AntavoEventData[]): Promise<SendEventsResult> {
    if (events.length === 0 || events.length > MAX_BULK_EVENTS) {
      // A caller bug, not vendor behaviour: the send stage splits before calling.
      throw new RangeError(`sendEvents takes 1..${MAX_BULK_EVENTS} events, got ${events.length}`);
    }
    // Rebuilt so that nothing but Antavo's fields reaches it.
    const wire = events.map(({ customer, action, data }) => ({ customer, action, data }));
    const bulk = wire.length > 1;
    const requestBody = JSON.stringify(bulk ? { events: wire } : wire[0]);
    const started = now();
    const result = await send("POST", bulk ? "/events/bulk" : "/events", {
      type: "application/json",
      text: requestBody,
    });
    const base = { durationMs: Math.max(0, now() - started), requestBody: redact(requestBody) };
    const all = (outcome: EventOutcome) => events.map(() => outcome);
    const context = bulk ? `POST /events/bulk (${events.length} events)` : `POST /events ${events[0]!.action}`;
    if (result.kind === "failed")
      return { ...base, outcomes: all({ status: "retry", error: `${context}: ${result.error}` }) };
    const withResponse = {
      ...base,
      httpStatus: result.status,
      responseBody: redact(result.text).slice(0, MAX_RECORDED_BODY),
    };
    if (result.status >= 200 && result.status < 300) {
      // A 2xx to POST /events is the event created: whatever its body says, it is not sent again.
      if (!bulk) return { ...withResponse, outcomes: all({ status: "delivered" }) };
      return { ...withResponse, outcomes: bulkOutcomes(events.length, result.text, redact) };
    }
    const verdict = failure(result, context);
    if (verdict.status === "dead") return { ...withResponse, outcomes: all(verdict) };
    const { rateLimited, ...retry } = verdict;
    return {
      ...withResponse,
      outcomes: all(retry),
      ...(rateLimited
        ? {
            rateLimited:
              verdict.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: verdict.retryAfterSeconds },
          }
        : {}),
    };
  }

  return { getCustomer, claimReward, sendEvents };
}

/**
 * `POST /events/bulk` answers 200 with `results[]` in request order, each `{events: [...]}` or
 * `{error: {type, code, message}}`. An entry that is missing or unreadable leaves that event's fate
 * unknown: Antavo may have created it, so it is not resent blindly (invariant 10).
 */
function bulkOutcomes(count: number, text: string, redact: (text: string) => string): EventOutcome[] {
  const body = parseJson(text);
  const results = isRecord(body) && Array.isArray(body.results) ? body.results : undefined;
  return Array.from({ length: count }, (_, index): EventOutcome => {
    const entry = results?.[index];
    if (isRecord(entry) && entry.error !== undefined) {
      const error = antavoError(JSON.stringify({ error: entry.error }));
      const detail = [error?.message, error?.code === undefined ? undefined : `code ${error.code}`].filter(Boolean);
      return { status: "dead", error: redact(`Antavo refused the event: ${detail.join(", ") || "no reason given"}`) };
    }
    if (isRecord(entry)) return { status: "delivered" };
    return {
      status: "outcome_unknown",
      error: results
        ? `Antavo's bulk answer has no result for event ${index + 1}`
        : "Antavo's 2xx answer to POST /events/bulk has no readable results[]",
    };
  });
}

/**
 * Antavo errors are `{"error": {"type", "code", "message"}}`, though some answers (404s among them)
 * put `type`/`code`/`message` at the top level; both are read, `error` first. The code is compared as text.
 */
function antavoError(text: string): { type?: string; code?: string; message?: string } | undefined {
  const body = parseJson(text);
  if (!isRecord(body)) return undefined;
  const source = isRecord(body.error) ? body.error : body;
  const { type, code, message } = source;
  return {
    ...(typeof type === "string" ? { type } : {}),
    ...(typeof code === "string" || typeof code === "number" ? { code: String(code) } : {}),
    ...(typeof message === "string" ? { message } : {}),
  };
}

function antavoErrorMessage(status: number, text: string): string {
  const err = antavoError(text);
  if (!err || (err.message === undefined && err.code === undefined)) return `HTTP ${status}`;
  const detail = [err.message, err.code === undefined ? undefined : `code ${err.code}`].filter(Boolean).join(", ");
  return `HTTP ${status}: ${detail}`;
}
