/**
 * An Antavo API stand-in for enrichment, reward claims and events (`POST /events`, `POST /events/bulk`). It verifies the Escher-style signature
 * itself with node:crypto (deliberately not through src/antavo/signer.ts, so a signer bug cannot
 * verify itself) and fails closed: unsigned or badly signed requests, unknown routes, wrong content
 * types or body shapes are recorded in `unexpected` and answered with Antavo's error body.
 * Error codes other than 160212 (unknown customer) are made up: the reference does not list them.
 */
import { createHash, createHmac } from "node:crypto";
import { playTransportFault } from "./transport-faults";

export interface FakeAntavoOptions {
  baseUrl: string;
  environment: string;
  apiKey: string;
  apiSecret: string;
  /** Milliseconds; when given, request dates more than 15 minutes off are rejected. */
  now?: () => number;
}

export type AntavoScriptedResponse =
  | { status: number; body?: unknown; retryAfter?: string | number }
  | { kind: "timeout" }
  | { kind: "reset" };

export interface FakeReward {
  id: string;
  price: number;
  coupon?: { code: string; type: string; value: number };
}

export interface RecordedClaim {
  customerId: string;
  rewardId: string;
  free: boolean;
  spent: number;
  id: string;
  /** The paid endpoint's form fields (`points`, `count`). */
  form?: Record<string, string>;
}

export interface RecordedEvent {
  customer: string;
  action: string;
  data: Record<string, unknown>;
  /** Which endpoint took it. */
  via: "events" | "bulk";
}

const MAX_SKEW_MS = 15 * 60 * 1000;
const AUTH_RE =
  /^ANTAVO-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/api\/antavo_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

export class FakeAntavo {
  readonly origin: string;
  readonly unexpected: string[] = [];
  readonly claims: RecordedClaim[] = [];
  /** Events Antavo created, in the order it took them. */
  readonly events: RecordedEvent[] = [];
  /** Calls to the events API (each `POST /events` or `POST /events/bulk`). */
  eventCalls = 0;
  /** Actions Antavo refuses (as an unknown event type): each such event fails on its own. */
  readonly refusedActions = new Set<string>();
  readonly requests: { method: string; path: string }[] = [];
  calls = 0;

  private readonly opts: FakeAntavoOptions;
  private readonly customers = new Map<string, Record<string, unknown>>();
  private readonly rewards = new Map<string, FakeReward>();
  private readonly queue: AntavoScriptedResponse[] = [];

  constructor(opts: FakeAntavoOptions) {
    this.opts = opts;
    this.origin = new URL(opts.baseUrl).origin;
  }

  seedCustomer(customer: { id: string } & Record<string, unknown>): this {
    this.customers.set(customer.id, structuredClone(customer));
    return this;
  }

  seedReward(reward: FakeReward): this {
    this.rewards.set(reward.id, reward);
    return this;
  }

  customer(id: string): Record<string, unknown> | undefined {
    return this.customers.get(id);
  }

  script(...responses: AntavoScriptedResponse[]): this {
    this.queue.push(...responses);
    return this;
  }

  assertNoUnexpected(): void {
    if (this.unexpected.length > 0) {
      throw new Error(`FakeAntavo saw unexpected requests:\n- ${this.unexpected.join("\n- ")}`);
    }
    if (this.queue.length > 0) throw new Error(`FakeAntavo: ${this.queue.length} scripted response(s) were never used`);
  }

  fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const signal = init?.signal ?? request.signal;
    const url = new URL(request.url);
    const where = `${request.method} ${url.pathname}`;
    this.calls++;
    this.requests.push({ method: request.method, path: url.pathname });
    // Decoded by hand: workerd warns when .text() reads a form body.
    const body = new TextDecoder().decode(await request.arrayBuffer());

    if (url.origin !== this.origin) return this.reject(`${where}: unexpected origin ${url.origin}`, 400);
    const authError = this.verifySignature(request, url, body, where);
    if (authError) return authError;

    const scripted = this.queue.shift();
    if (scripted) return this.play(scripted, signal, where);

    const segments = url.pathname.split("/").slice(1).map(decodeURIComponent);
    if (request.method === "GET" && segments.length === 2 && segments[0] === "customers") {
      if (body !== "") this.flag(`${where}: GET with a body`);
      const customer = this.customers.get(segments[1] ?? "");
      return customer ? json(200, customer) : this.customerNotFound();
    }
    if (
      request.method === "POST" &&
      segments.length === 6 &&
      segments[0] === "customers" &&
      segments[2] === "activities" &&
      segments[3] === "rewards" &&
      segments[5] === "claim"
    ) {
      return this.paidClaim(request, segments[1] ?? "", segments[4] ?? "", body, where);
    }
    if (
      request.method === "POST" &&
      segments.length === 5 &&
      segments.slice(0, 4).join("/") === "v1/bulk-operation/reward/claim"
    ) {
      return this.freeClaim(request, segments[4] ?? "", body, where);
    }
    if (request.method === "POST" && url.pathname === "/events") return this.postEvents(request, body, where, false);
    if (request.method === "POST" && url.pathname === "/events/bulk")
      return this.postEvents(request, body, where, true);
    return this.reject(`${where}: no such route`, 404);
  };

  /** An event body must be exactly `{customer, action, data}`: anything else is our bug. */
  private readEvent(
    value: unknown,
    where: string,
  ): { customer: string; action: string; data: Record<string, unknown> } | undefined {
    const valid =
      isRecord(value) &&
      Object.keys(value).every((k) => k === "customer" || k === "action" || k === "data") &&
      typeof value.customer === "string" &&
      value.customer !== "" &&
      typeof value.action === "string" &&
      value.action !== "" &&
      isRecord(value.data);
    if (!valid) {
      this.flag(`${where}: event ${JSON.stringify(value)} is not {customer, action, data}`);
      return undefined;
    }
    return value as { customer: string; action: string; data: Record<string, unknown> };
  }

  /** Creates one event, or answers its error (unknown customer, refused action). */
  private createEvent(
    event: { customer: string; action: string; data: Record<string, unknown> },
    via: RecordedEvent["via"],
  ): { error?: { type: string; code: number; message: string }; events?: unknown[] } {
    if (!this.customers.has(event.customer))
      return { error: { type: "NotFound", code: 160212, message: "Customer not found" } };
    if (this.refusedActions.has(event.action))
      return { error: { type: "ValidationError", code: 160401, message: `Unknown event type ${event.action}` } };
    this.events.push({ ...structuredClone(event), via });
    return { events: [{ action: event.action, customer: event.customer }] };
  }

  private postEvents(request: Request, body: string, where: string, bulk: boolean): Response {
    this.eventCalls++;
    const type = request.headers.get("content-type") ?? "";
    if (!type.startsWith("application/json")) this.flag(`${where}: content-type "${type}" is not JSON`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      this.flag(`${where}: body is not JSON`);
      return antavoError(400, "ValidationError", 160303, "Invalid request body");
    }
    if (!bulk) {
      const event = this.readEvent(parsed, where);
      if (!event) return antavoError(400, "ValidationError", 160303, "Invalid request body");
      const result = this.createEvent(event, "events");
      if (result.error) return json(result.error.code === 160212 ? 404 : 400, result);
      return json(200, { ...this.customers.get(event.customer), events: result.events });
    }
    const list = isRecord(parsed) && Array.isArray(parsed.events) ? parsed.events : undefined;
    if (!list || list.length === 0 || list.length > 50 || Object.keys(parsed as object).length !== 1) {
      this.flag(`${where}: bulk body is not {events: [1..50]}`);
      return antavoError(400, "ValidationError", 160303, "Invalid request body");
    }
    const events = list.map((e) => this.readEvent(e, where));
    if (events.some((e) => e === undefined)) return antavoError(400, "ValidationError", 160303, "Invalid request body");
    const results = events.map((e) => this.createEvent(e!, "bulk"));
    const errors = results.filter((r) => r.error).length;
    return json(200, { results, total: results.length, errors });
  }

  /** An independent Escher/SigV4 verification, written from reference/vendor-apis.md. */
  private verifySignature(request: Request, url: URL, body: string, where: string): Response | undefined {
    const authorization = request.headers.get("authorization");
    const match = authorization === null ? null : AUTH_RE.exec(authorization);
    if (!match)
      return this.unauthorized(`${where}: missing or malformed Authorization: ${authorization ?? "(none)"}`, true);
    const [, keyId, shortDate, environment, signedHeaders, signature] = match as unknown as string[];
    if (keyId !== this.opts.apiKey) return this.unauthorized(`${where}: unknown API key ${keyId}`, false);
    if (environment !== this.opts.environment)
      return this.unauthorized(`${where}: scope environment ${environment}`, true);
    const names = (signedHeaders ?? "").split(";");
    if (!names.includes("date") || !names.includes("host"))
      return this.unauthorized(`${where}: date and host must be signed`, true);

    const date = request.headers.get("date") ?? "";
    const dateMatch = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
    if (!dateMatch || date.slice(0, 8) !== shortDate) return this.unauthorized(`${where}: date header "${date}"`, true);
    if (request.headers.get("host") !== url.host) {
      return this.unauthorized(`${where}: host header ${request.headers.get("host")} is not ${url.host}`, true);
    }
    if (this.opts.now) {
      const [, y, mo, d, h, mi, s] = dateMatch.map(Number) as number[];
      const at = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
      if (Math.abs(at - this.opts.now()) > MAX_SKEW_MS)
        return this.unauthorized(`${where}: request date ${date} is stale`, true);
    }

    const sha256 = (data: string) => createHash("sha256").update(data, "utf8").digest("hex");
    // Escher sorts the encoded `key=value` strings and collapses repeated slashes in the path.
    const query = [...new URLSearchParams(url.search)]
      .map(([k, v]) => `${encodeEscher(k)}=${encodeEscher(v)}`)
      .sort()
      .join("&");
    const path = url.pathname.replace(/\/{2,}/g, "/");
    const canonicalHeaders = names.map((n) => `${n}:${(request.headers.get(n) ?? "").trim()}\n`).join("");
    const canonicalRequest = [request.method, path, query, canonicalHeaders, signedHeaders, sha256(body)].join("\n");
    const scope = `${shortDate}/${environment}/api/antavo_request`;
    const stringToSign = ["ANTAVO-HMAC-SHA256", date, scope, sha256(canonicalRequest)].join("\n");
    let key: Buffer = Buffer.from(`ANTAVO${this.opts.apiSecret}`, "utf8");
    for (const part of [shortDate ?? "", environment ?? "", "api", "antavo_request"]) {
      key = createHmac("sha256", key).update(part, "utf8").digest();
    }
    const expected = createHmac("sha256", key).update(stringToSign, "utf8").digest("hex");
    if (expected !== signature) return this.unauthorized(`${where}: signature mismatch`, true);
    return undefined;
  }

  private paidClaim(request: Request, customerId: string, rewardId: string, body: string, where: string): Response {
    const type = request.headers.get("content-type") ?? "";
    if (!type.startsWith("application/x-www-form-urlencoded"))
      this.flag(`${where}: content-type "${type}" is not a form`);
    const form = new URLSearchParams(body);
    const stray = [...form.keys()].filter((k) => k !== "points" && k !== "count");
    if (stray.length > 0) this.flag(`${where}: unexpected form fields ${stray.join(", ")}`);
    const customer = this.customers.get(customerId);
    if (!customer) return this.customerNotFound();
    const reward = this.rewards.get(rewardId);
    if (!reward) return antavoError(404, "NotFound", 160301, "Reward not found");
    const spendable = typeof customer.spendable === "number" ? customer.spendable : 0;
    if (spendable < reward.price)
      return antavoError(400, "ValidationError", 160302, "Not enough points to claim the reward");
    customer.spendable = spendable - reward.price;
    return json(200, this.record(customerId, reward, false, Object.fromEntries(form)));
  }

  private freeClaim(request: Request, rewardId: string, body: string, where: string): Response {
    const type = request.headers.get("content-type") ?? "";
    if (!type.startsWith("application/json")) this.flag(`${where}: content-type "${type}" is not JSON`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
    const valid =
      isRecord(parsed) &&
      Object.keys(parsed).every((k) => k === "customers" || k === "force_claim") &&
      parsed.force_claim === true &&
      Array.isArray(parsed.customers) &&
      parsed.customers.length > 0 &&
      parsed.customers.every((c) => typeof c === "string" && c !== "");
    if (!valid) {
      this.flag(`${where}: body ${body} is not {customers: [ids], force_claim: true}`);
      return antavoError(400, "ValidationError", 160303, "Invalid request body");
    }
    const reward = this.rewards.get(rewardId);
    if (!reward) return antavoError(404, "NotFound", 160301, "Reward not found");
    const ids = (parsed as { customers: string[] }).customers;
    const unknown = ids.find((id) => !this.customers.has(id));
    if (unknown !== undefined) return this.customerNotFound();
    // The reference does not show the bulk answer; the fake answers like a single claim at price zero.
    const claims = ids.map((id) => this.record(id, reward, true));
    return json(200, claims[0]);
  }

  private record(
    customerId: string,
    reward: FakeReward,
    free: boolean,
    form?: Record<string, string>,
  ): Record<string, unknown> {
    const id = `claim-${this.claims.length + 1}`;
    const spent = free ? 0 : reward.price;
    this.claims.push({ customerId, rewardId: reward.id, free, spent, id, ...(form ? { form } : {}) });
    const nowSeconds = Math.floor((this.opts.now ?? Date.now)() / 1000);
    return { spent, id, last_claimed_at: nowSeconds, ...(reward.coupon ? { coupon: reward.coupon } : {}) };
  }

  private async play(
    s: AntavoScriptedResponse,
    signal: AbortSignal | null | undefined,
    where: string,
  ): Promise<Response> {
    if ("kind" in s) return playTransportFault(s, signal, (m) => this.flag(`${where}: ${m}`), "FakeAntavo");
    const headers: Record<string, string> = {};
    if (s.retryAfter !== undefined) headers["retry-after"] = String(s.retryAfter);
    const body =
      s.body !== undefined
        ? s.body
        : s.status === 429
          ? { error: { type: "RateLimitError", code: 429, message: "Too many requests" } }
          : { error: { type: "ServerError", code: s.status, message: "Internal server error" } };
    return json(s.status, body, headers);
  }

  private customerNotFound(): Response {
    return antavoError(404, "NotFound", 160212, "Customer not found");
  }

  /** `flagIt` false for realistic misconfiguration (an unknown key), true for what our code must never send. */
  private unauthorized(message: string, flagIt: boolean): Response {
    if (flagIt) this.flag(message);
    return antavoError(401, "AuthenticationError", 160001, "Invalid or missing request signature");
  }

  private flag(message: string): void {
    this.unexpected.push(message);
  }

  private reject(message: string, status: number): Response {
    this.flag(message);
    return antavoError(status, "NotFound", 160000, `FakeAntavo: ${message}`);
  }
}

function antavoError(status: number, type: string, code: number, message: string): Response {
  return json(status, { error: { type, code, message } });
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return new Response(text, { status, headers: { "content-type": "application/json", ...headers } });
}

/** Escher's query encoding: RFC 3986 unreserved characters plus `!` and `*` stay, `'()` are escaped. */
function encodeEscher(text: string): string {
  return encodeURIComponent(text).replace(/['()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
