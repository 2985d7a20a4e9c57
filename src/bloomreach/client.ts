/**
 * Bloomreach Engagement adapter: one batch call (<= 50 commands) turned into one outcome per command,
 * and the admin "test connection" probe. Vendor behaviour (HTTP errors, timeouts, resets) comes back
 * as values, never exceptions, so the pipeline can decide delivered / retry / dead per command.
 * The API secret never appears in anything returned: every string passes through `redact`. The
 * connection test repeats no text of the answers at all (see `testConnection`).
 */
import type { BloomreachCommand } from "../domain/commands";
import { classifyStatus, readVendorStatus } from "../domain/vendor-status";
import { type Exchange, exchange, isRecord, parseJson, redactor } from "../lib/http-exchange";

export const MAX_BATCH_COMMANDS = 50;
const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_RECORDED_BODY = 4096;

export interface BloomreachCredentials {
  baseUrl: string;
  projectToken: string;
  apiKeyId: string;
  apiSecret: string;
}

export interface BloomreachDeps {
  fetch: typeof fetch;
  timeoutMs?: number;
  /** Milliseconds; used for durations and HTTP-date Retry-After. */
  now?: () => number;
}

export type CommandOutcome =
  | { status: "delivered" }
  /** A 2xx whose answer says nothing of this command: it may or may not have been applied. */
  | { status: "outcome_unknown"; error: string }
  | { status: "retry"; error: string; retryAfterSeconds?: number }
  | { status: "dead"; error: string };

export interface BatchResult {
  /** Exactly one per command, in request order. */
  outcomes: CommandOutcome[];
  httpStatus?: number;
  durationMs: number;
  /** Set on 401/403: the pipeline pauses the project rather than burning retries. */
  authFailure?: { status: 401 | 403; message: string };
  requestBody: string;
  responseBody?: string;
  /**
   * Bloomreach's own batch answer, read per command (redacted, each result bounded), so the log
   * can keep each event's part of it: which command it refused, in its words. Only for a 2xx JSON body.
   */
  answer?: BatchAnswer;
}

export interface BatchAnswer {
  /** The answer's scalar top-level fields (`success`, `start_time`, `end_time`). */
  fields: Record<string, unknown>;
  /** One per command, in request order; a result over 1 KiB is kept as its truncated JSON text. */
  results: unknown[];
}

export type ConnectionCheckName = "reachability" | "credentials" | "permissions";
export interface ConnectionCheck {
  name: ConnectionCheckName;
  ok: boolean;
  /** Not run because an earlier check failed (`ok` is false, the message says why): not a failure of its own. */
  skipped?: true;
  message: string;
  /** Reachability only: Bloomreach's clock (Unix seconds) and how far it is ahead of the relay's (negative: behind). */
  serverTime?: number;
  clockSkewSeconds?: number;
}
export interface ConnectionTestResult {
  ok: boolean;
  checks: ConnectionCheck[];
}

export interface ConnectionTestOptions {
  /** Why there is no API secret to test with: reachability still runs, the credentials check fails with this. */
  credentialsMissing?: string;
}

/** What became of one GDPR anonymization (DESIGN 4.6), as a value like every vendor answer. */
export type AnonymizeOutcome =
  | { status: "anonymized" }
  | { status: "retry"; error: string; retryAfterSeconds?: number }
  | { status: "dead"; error: string };

export interface BloomreachClient {
  sendBatch(commands: BloomreachCommand[]): Promise<BatchResult>;
  /** `POST /data/v2/projects/{token}/customers/anonymize` (permission GDPR > Anonymize customer). */
  anonymize(customerIds: Record<string, string>): Promise<AnonymizeOutcome>;
  testConnection(
    probeCustomerIds: Record<string, string>,
    options?: ConnectionTestOptions,
  ): Promise<ConnectionTestResult>;
}

export function createBloomreachClient(credentials: BloomreachCredentials, deps: BloomreachDeps): BloomreachClient {
  const fetchFn = deps.fetch;
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const now = deps.now ?? Date.now;
  const origin = credentials.baseUrl.replace(/\/+$/, "");
  const token = encodeURIComponent(credentials.projectToken);
  const basic = `Basic ${base64Utf8(`${credentials.apiKeyId}:${credentials.apiSecret}`)}`;
  const redact = redactor(credentials.apiSecret, basic.slice("Basic ".length));
  const call = (url: string, init: RequestInit): Promise<Exchange> => exchange(fetchFn, url, init, timeoutMs, redact);

  async function sendBatch(commands: BloomreachCommand[]): Promise<BatchResult> {
    if (commands.length === 0 || commands.length > MAX_BATCH_COMMANDS) {
      // A caller bug, not vendor behaviour: the batcher must split before calling.
      throw new RangeError(`sendBatch takes 1..${MAX_BATCH_COMMANDS} commands, got ${commands.length}`);
    }
    // Rebuild each command so stray fields (e.g. a planner's `source`) never reach the vendor.
    const wire = commands.map((c) =>
      c.command_id === undefined
        ? { name: c.name, data: c.data }
        : { name: c.name, command_id: c.command_id, data: c.data },
    );
    const requestBody = JSON.stringify({ commands: wire });
    const started = now();
    const result = await call(`${origin}/track/v2/projects/${token}/batch`, {
      method: "POST",
      headers: { authorization: basic, "content-type": "application/json", accept: "application/json" },
      body: requestBody,
    });
    const durationMs = Math.max(0, now() - started);
    const base = { durationMs, requestBody: redact(requestBody) };
    const all = (outcome: CommandOutcome) => commands.map(() => outcome);

    if (result.kind === "failed") {
      return { ...base, outcomes: all({ status: "retry", error: result.error }) };
    }
    const { status, headers, text } = result;
    const responseBody = truncate(redact(text));
    const withResponse = { ...base, httpStatus: status, responseBody };

    const verdict = readVendorStatus(status, headers.get("retry-after"), now());
    if (verdict.kind === "ok") {
      const answer = readAnswer(redact(text), commands.length);
      return {
        ...withResponse,
        outcomes: perCommandOutcomes(commands.length, text, status, redact),
        ...(answer ? { answer } : {}),
      };
    }
    const message = redact(errorMessage(status, text));
    if (verdict.kind === "dead") return { ...withResponse, outcomes: all({ status: "dead", error: message }) };
    const retry: CommandOutcome =
      verdict.retryAfterSeconds === undefined
        ? { status: "retry", error: message }
        : { status: "retry", error: message, retryAfterSeconds: verdict.retryAfterSeconds };
    // 401/403: the commands are retried once the project is resumed, not burnt against bad credentials.
    if (verdict.kind === "auth") {
      return { ...withResponse, outcomes: all(retry), authFailure: { status: verdict.status, message } };
    }
    return { ...withResponse, outcomes: all(retry) };
  }

  /**
   * The checks speak in the relay's own words: statuses and what they mean, never a field or body
   * text of the answer. Whatever the base URL names could reflect data in its answer otherwise.
   */
  async function testConnection(
    probeCustomerIds: Record<string, string>,
    options: ConnectionTestOptions = {},
  ): Promise<ConnectionTestResult> {
    const checks: ConnectionCheck[] = [];
    const finish = (skipReason: string) => finishChecks(checks, skipReason);

    // Step 1: needs no permission, so it isolates base URL + project token from credentials.
    const time = await call(`${origin}/track/v2/projects/${token}/system/time`, {
      method: "GET",
      headers: { accept: "application/json" },
    });
    const reach = reachabilityCheck(time, origin, now());
    checks.push(reach);
    if (!reach.ok) return finish("the base URL or project token does not work");
    if (options.credentialsMissing !== undefined) {
      checks.push({ name: "credentials", ok: false, message: options.credentialsMissing });
      return finish("there is no API secret to test with");
    }

    // Step 2: a private-access read, which proves the key pair and the Get permission together.
    const probe = await call(`${origin}/data/v2/projects/${token}/customers/attributes`, {
      method: "POST",
      headers: { authorization: basic, "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ customer_ids: probeCustomerIds, attributes: [{ type: "property", property: "email" }] }),
    });
    if (probe.kind === "failed") {
      checks.push({ name: "credentials", ok: false, message: `could not check the credentials: ${probe.error}` });
      return finish("the credentials could not be checked");
    }
    if (classifyStatus(probe.status) === "auth") {
      const hint = probe.status === 401 ? "unknown API key id" : "wrong API secret or missing permission";
      checks.push({ name: "credentials", ok: false, message: `rejected with HTTP ${probe.status} (${hint})` });
      return finish("the credentials were rejected");
    }
    if (classifyStatus(probe.status) !== "ok") {
      checks.push({
        name: "credentials",
        ok: false,
        message: `could not check the credentials: HTTP ${probe.status}`,
      });
      return finish("the credentials could not be checked");
    }
    checks.push({ name: "credentials", ok: true, message: "the API key id and secret were accepted" });
    checks.push(permissionsCheck(probe.text));
    return finish("not reached");
  }

  async function anonymize(customerIds: Record<string, string>): Promise<AnonymizeOutcome> {
    const result = await call(`${origin}/data/v2/projects/${token}/customers/anonymize`, {
      method: "POST",
      headers: { authorization: basic, "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ customer_ids: customerIds }),
    });
    if (result.kind === "failed") return { status: "retry", error: result.error };
    const verdict = readVendorStatus(result.status, result.headers.get("retry-after"), now());
    if (verdict.kind === "ok") {
      const body = parseJson(result.text);
      // The answer names no customer data we need; an explicit refusal is the only 2xx failure.
      if (isRecord(body) && body.success === false)
        return { status: "dead", error: redact(extractMessage(body) ?? "refused without a reason") };
      return { status: "anonymized" };
    }
    const message = redact(errorMessage(result.status, result.text));
    if (verdict.kind === "retry")
      return verdict.retryAfterSeconds === undefined
        ? { status: "retry", error: message }
        : { status: "retry", error: message, retryAfterSeconds: verdict.retryAfterSeconds };
    // 401/403 here is a missing GDPR permission (or bad credentials): retrying cannot fix it.
    return {
      status: "dead",
      error: verdict.kind === "auth" ? `${message} (the API group needs GDPR > Anonymize customer)` : message,
    };
  }

  return { sendBatch, testConnection, anonymize };
}

function perCommandOutcomes(
  count: number,
  text: string,
  status: number,
  redact: (s: string) => string,
): CommandOutcome[] {
  const body = parseJson(text);
  const results = isRecord(body) && Array.isArray(body.results) ? (body.results as unknown[]) : [];
  const outcomes: CommandOutcome[] = [];
  for (let i = 0; i < count; i++) {
    if (i >= results.length) {
      // Bloomreach promises one result per command; without one we cannot know it was applied.
      outcomes.push({
        status: "outcome_unknown",
        error: isRecord(body)
          ? `HTTP ${status} answered ${results.length} results for ${count} commands; none for command ${i}`
          : `HTTP ${status} with an answer that is not Bloomreach's JSON; the command may or may not be applied`,
      });
      continue;
    }
    const r = results[i];
    if (isRecord(r) && r.success === true) outcomes.push({ status: "delivered" });
    else if (isRecord(r) && r.success === false) {
      outcomes.push({ status: "dead", error: redact(extractMessage(r) ?? "rejected without a reason") });
    } else {
      outcomes.push({
        status: "outcome_unknown",
        error: `unrecognised result for command ${i}: ${truncate(JSON.stringify(r) ?? "", 200)}`,
      });
    }
  }
  return outcomes;
}

const MAX_RECORDED_RESULT = 1024;

/** The batch answer as the log keeps it: small scalars, and each command's result bounded. */
function readAnswer(text: string, count: number): BatchAnswer | undefined {
  const body = parseJson(text);
  if (!isRecord(body) || !Array.isArray(body.results)) return undefined;
  const fields = Object.fromEntries(
    Object.entries(body)
      .filter(([key, value]) => key !== "results" && (value === null || typeof value !== "object"))
      .map(([key, value]) => [key, typeof value === "string" ? truncate(value, 200) : value]),
  );
  const results = (body.results as unknown[]).slice(0, count).map((result) => {
    const json = JSON.stringify(result) ?? "null";
    return json.length <= MAX_RECORDED_RESULT ? result : truncate(json, MAX_RECORDED_RESULT);
  });
  return { fields, results };
}

/** Fills in the checks not reached as skipped, with the reason; the test passes only when all three pass. */
export function finishChecks(checks: ConnectionCheck[], skipReason: string): ConnectionTestResult {
  for (const name of ["reachability", "credentials", "permissions"] as const) {
    if (!checks.some((c) => c.name === name))
      checks.push({ name, ok: false, skipped: true, message: `skipped: ${skipReason}` });
  }
  return { ok: checks.every((c) => c.ok), checks };
}

/** 1e11 seconds is the year 5138: a larger `time` is not Bloomreach's Unix seconds, so it is not shown. */
const MAX_PLAUSIBLE_SECONDS = 1e11;

/**
 * Bloomreach's clock, readable: events and property updates carry the relay's Unix seconds, so a
 * skew of minutes would misplace them. Only a number is read from the answer, never its text.
 */
function serverClock(body: Record<string, unknown>, nowMs: number) {
  const time = body.time;
  if (typeof time !== "number" || !Number.isFinite(time) || time <= 0 || time >= MAX_PLAUSIBLE_SECONDS) return {};
  const skew = Math.round(time - nowMs / 1000);
  const when = new Date(Math.round(time) * 1000).toISOString().replace(/\.000Z$/, "Z");
  const relative =
    Math.abs(skew) <= 1
      ? "in step with the relay's"
      : `${Math.abs(skew)} s ${skew > 0 ? "ahead of" : "behind"} the relay's`;
  return { serverTime: time, clockSkewSeconds: skew, note: `; Bloomreach's clock reads ${when} (UTC), ${relative}` };
}

function reachabilityCheck(result: Exchange, origin: string, nowMs: number): ConnectionCheck {
  const name = "reachability" as const;
  if (result.kind === "failed") return { name, ok: false, message: `cannot reach ${origin}: ${result.error}` };
  if (result.status === 404) {
    return { name, ok: false, message: `HTTP 404 from ${origin}: check the base URL and the project token` };
  }
  if (result.status < 200 || result.status >= 300) {
    return { name, ok: false, message: `HTTP ${result.status} from ${origin}: check the project token` };
  }
  const body = parseJson(result.text);
  if (!isRecord(body)) {
    return {
      name,
      ok: false,
      message: `${origin} answered HTTP ${result.status} but not with JSON: is it a Bloomreach API base URL?`,
    };
  }
  if (body.success === false) {
    return {
      name,
      ok: false,
      message: `${origin} answered HTTP ${result.status} without success: the project token was not accepted`,
    };
  }
  const { note = "", ...clock } = serverClock(body, nowMs);
  return { name, ok: true, message: `reached ${origin}; the project token was accepted${note}`, ...clock };
}

/**
 * Any per-item failure naming a permission means the API group lacks Get. Other per-item errors
 * (e.g. an unknown probe customer) still prove the read was allowed, so they pass with a note.
 * The answer decides the outcome; none of its text is repeated.
 */
function permissionsCheck(text: string): ConnectionCheck {
  const name = "permissions" as const;
  const body = parseJson(text);
  const items: unknown[] = isRecord(body) && Array.isArray(body.results) ? body.results : isRecord(body) ? [body] : [];
  const failures = items.filter((i): i is Record<string, unknown> => isRecord(i) && i.success === false);
  const messages = failures.map((f) => extractMessage(f));
  if (messages.some((m) => m !== undefined && /permission/i.test(m))) {
    return {
      name,
      ok: false,
      message:
        "the API group may not read customer properties (the probe was refused for a missing permission): grant Get and Set on customer properties and events",
    };
  }
  return {
    name,
    ok: true,
    message:
      failures.length === 0
        ? "customer properties can be read"
        : "customer properties can be read (the probe answered a per-item error other than a missing permission, e.g. an unknown customer)",
  };
}

/** Bloomreach error bodies carry `error`, `errors` (array or object) or `message`; take what exists. */
function errorMessage(status: number, text: string): string {
  const body = parseJson(text);
  const extracted = isRecord(body) ? extractMessage(body) : undefined;
  return extracted === undefined ? `HTTP ${status}` : `HTTP ${status}: ${extracted}`;
}

function extractMessage(body: Record<string, unknown>): string | undefined {
  const { error, errors, message } = body;
  if (typeof error === "string" && error !== "") return error;
  if (isRecord(error) && typeof error.message === "string") return error.message;
  if (Array.isArray(errors) && errors.length > 0) return errors.map(stringify).join("; ");
  if (isRecord(errors) && Object.keys(errors).length > 0) {
    return Object.entries(errors)
      .map(([k, v]) => `${k}: ${stringify(v)}`)
      .join("; ");
  }
  if (typeof message === "string" && message !== "") return message;
  return undefined;
}

function stringify(v: unknown): string {
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return v.map(stringify).join(", ");
  return JSON.stringify(v) ?? String(v);
}

function truncate(text: string, max = MAX_RECORDED_BODY): string {
  return text.length <= max ? text : `${text.slice(0, max)}…[truncated ${text.length - max} chars]`;
}

/** btoa only takes Latin-1; key ids and secrets are not guaranteed to be. */
function base64Utf8(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}
