/**
 * A Bloomreach Engagement stand-in that speaks the vendor's wire format (reference/vendor-apis.md)
 * and fails closed: any request our code should never make (unknown host/route/method, missing
 * auth, malformed command, millisecond timestamp, stray field) is recorded in `unexpected`, so a test
 * that ends with `assertNoUnexpected()` fails even when the client swallowed the answer as a retry.
 * Wrong credentials and wrong tokens are realistic misconfigurations, so they get the vendor's
 * answer without being "unexpected".
 */
import type { BloomreachCommand, CustomerCommandData, EventCommandData } from "../../src/domain/commands";
import { playTransportFault } from "./transport-faults";

export interface FakeBloomreachOptions {
  baseUrl: string;
  projectToken: string;
  apiKeyId: string;
  apiSecret: string;
  /** Milliseconds; the server time of `system/time`. */
  now?: () => number;
}

export type FakeRoute = "time" | "batch" | "attributes" | "anonymize";

/** One scripted answer; consumed in order by the next request (on `route`, when given). */
export type ScriptedResponse = {
  route?: FakeRoute;
} /** `body` defaults to a vendor-like error body; a string is sent as is (e.g. an HTML error page). */ & (
  | { status: number; body?: unknown; retryAfter?: string | number }
  /** Never answers until the request's AbortSignal fires. */
  | { kind: "timeout" }
  /** Throws like a connection reset by the peer. */
  | { kind: "reset" }
);

const MAX_COMMANDS = 50;
/** 1e11 seconds is the year 5138; anything larger is a millisecond timestamp. */
const MILLISECONDS_THRESHOLD = 1e11;

export class FakeBloomreach {
  readonly origin: string;
  readonly unexpected: string[] = [];
  /** Commands Bloomreach accepted (success: true), in arrival order. */
  readonly commands: BloomreachCommand[] = [];
  readonly requests: { method: string; path: string }[] = [];
  /** The customer_ids of each accepted anonymize request, in arrival order. */
  readonly anonymized: Record<string, string>[] = [];
  calls = 0;

  private readonly opts: FakeBloomreachOptions;
  private readonly basePath: string;
  private readonly queue: ScriptedResponse[] = [];
  private readonly failures: { predicate: (c: BloomreachCommand) => boolean; message: string }[] = [];
  private latency?: { ms: number; sleep: (ms: number) => Promise<void> };
  private getPermission = true;

  constructor(opts: FakeBloomreachOptions) {
    this.opts = opts;
    const url = new URL(opts.baseUrl);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, "");
  }

  script(...responses: ScriptedResponse[]): this {
    this.queue.push(...responses);
    return this;
  }

  /** Per-command `success:false` for matching commands, among otherwise successful results. */
  failCommands(predicate: (c: BloomreachCommand) => boolean, message: string): this {
    this.failures.push({ predicate, message });
    return this;
  }

  setLatency(ms: number, sleep: (ms: number) => Promise<void>): this {
    this.latency = { ms, sleep };
    return this;
  }

  /** The API group loses Get on customer properties (the connection test's permission probe). */
  withoutGetPermission(): this {
    this.getPermission = false;
    return this;
  }

  events(): EventCommandData[] {
    return this.commands.flatMap((c) => (c.name === "customers/events" ? [c.data] : []));
  }

  customers(): CustomerCommandData[] {
    return this.commands.flatMap((c) => (c.name === "customers" ? [c.data] : []));
  }

  /** Events are not idempotent in Bloomreach: the same event twice is a visible duplicate. */
  duplicateEvents(): { event: EventCommandData; count: number }[] {
    const groups = new Map<string, { event: EventCommandData; count: number }>();
    for (const e of this.events()) {
      const key = stableJson([e.customer_ids, e.event_type, e.timestamp, e.properties ?? {}]);
      const g = groups.get(key);
      if (g) g.count++;
      else groups.set(key, { event: e, count: 1 });
    }
    return [...groups.values()].filter((g) => g.count > 1);
  }

  assertNoUnexpected(): void {
    if (this.unexpected.length > 0) {
      throw new Error(`FakeBloomreach saw unexpected requests:\n- ${this.unexpected.join("\n- ")}`);
    }
    if (this.queue.length > 0) {
      throw new Error(`FakeBloomreach: ${this.queue.length} scripted response(s) were never used`);
    }
  }

  fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const signal = init?.signal ?? request.signal;
    this.calls++;
    const url = new URL(request.url);
    this.requests.push({ method: request.method, path: url.pathname });
    const where = `${request.method} ${url.pathname}`;

    if (url.origin !== this.origin) return this.reject(`${where}: unexpected origin ${url.origin}`);
    const route = this.route(request.method, url.pathname);
    if (route === undefined) return this.reject(`${where}: no such route`, 404);
    if (url.search !== "") this.flag(`${where}: unexpected query ${url.search}`);

    const text = request.method === "GET" ? "" : await request.text();
    if (route.name !== "time") this.checkRequestHeaders(request, where);
    const body = route.name === "time" ? undefined : this.parseBody(text, where);

    const scripted = this.takeScripted(route.name);
    if (this.latency) await this.latency.sleep(this.latency.ms);
    if (scripted) return this.playScripted(scripted, signal, where);

    if (route.token !== this.opts.projectToken) {
      return json(404, { success: false, error: "Project not found" });
    }
    if (route.name === "time") return json(200, { success: true, time: this.now() / 1000 });

    const auth = this.checkCredentials(request);
    if (auth) return auth;
    if (route.name === "batch") return this.batch(body, where);
    if (route.name === "anonymize") return this.anonymize(body, where);
    return this.attributes(body, where);
  };

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private route(method: string, path: string): { name: FakeRoute; token: string } | undefined {
    if (!path.startsWith(`${this.basePath}/`)) return undefined;
    const rest = path.slice(this.basePath.length);
    const patterns: [FakeRoute, string, RegExp][] = [
      ["time", "GET", /^\/track\/v2\/projects\/([^/]+)\/system\/time$/],
      ["batch", "POST", /^\/track\/v2\/projects\/([^/]+)\/batch$/],
      ["attributes", "POST", /^\/data\/v2\/projects\/([^/]+)\/customers\/attributes$/],
      ["anonymize", "POST", /^\/data\/v2\/projects\/([^/]+)\/customers\/anonymize$/],
    ];
    for (const [name, m, re] of patterns) {
      const match = re.exec(rest);
      if (match && method === m) return { name, token: decodeURIComponent(match[1] ?? "") };
    }
    return undefined;
  }

  private checkRequestHeaders(request: Request, where: string): void {
    const type = request.headers.get("content-type") ?? "";
    if (!/^application\/json\b/i.test(type)) this.flag(`${where}: content-type is "${type}", not application/json`);
    const auth = request.headers.get("authorization");
    if (auth === null) this.flag(`${where}: no Authorization header`);
    else if (!/^Basic [A-Za-z0-9+/]+=*$/.test(auth)) this.flag(`${where}: Authorization is not HTTP Basic`);
  }

  /** Unknown key id is a 401, a wrong secret a 403, as the reference describes. */
  private checkCredentials(request: Request): Response | undefined {
    const auth = request.headers.get("authorization") ?? "";
    const decoded = auth.startsWith("Basic ") ? decodeBase64Utf8(auth.slice(6)) : undefined;
    const sep = decoded?.indexOf(":") ?? -1;
    if (decoded === undefined || sep < 0) return json(401, { success: false, error: "Authorization required" });
    const keyId = decoded.slice(0, sep);
    const secret = decoded.slice(sep + 1);
    if (keyId !== this.opts.apiKeyId) return json(401, { success: false, error: "Unknown API key" });
    if (secret !== this.opts.apiSecret) return json(403, { success: false, errors: ["Invalid API secret"] });
    return undefined;
  }

  private parseBody(text: string, where: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      this.flag(`${where}: body is not JSON`);
      return undefined;
    }
  }

  private batch(body: unknown, where: string): Response {
    if (!isRecord(body)) return json(400, { success: false, message: "Invalid JSON" });
    const extraKeys = Object.keys(body).filter((k) => k !== "commands");
    if (extraKeys.length > 0) this.flag(`${where}: unexpected top-level fields ${extraKeys.join(", ")}`);
    const commands = body.commands;
    if (!Array.isArray(commands) || commands.length === 0) {
      this.flag(`${where}: no commands`);
      return json(400, { success: false, message: "No commands" });
    }
    if (commands.length > MAX_COMMANDS) {
      this.flag(`${where}: ${commands.length} commands (max ${MAX_COMMANDS})`);
      return json(400, { success: false, message: `Too many commands (max ${MAX_COMMANDS})` });
    }
    const start = this.now() / 1000;
    const results = commands.map((c, i) => this.command(c, `${where} command ${i}`));
    return json(200, { success: true, start_time: start, end_time: this.now() / 1000, results });
  }

  private command(raw: unknown, where: string): { success: true } | { success: false; errors: string[] } {
    if (!isRecord(raw) || (raw.name !== "customers" && raw.name !== "customers/events") || !isRecord(raw.data)) {
      this.flag(`${where}: not a {name, data} command: ${JSON.stringify(raw)}`);
      return { success: false, errors: ["Invalid command"] };
    }
    const extra = Object.keys(raw).filter((k) => !["name", "data", "command_id"].includes(k));
    if (extra.length > 0) this.flag(`${where}: unexpected command fields ${extra.join(", ")}`);
    if (raw.command_id !== undefined && typeof raw.command_id !== "string")
      this.flag(`${where}: command_id not a string`);

    const data = raw.data;
    const allowed =
      raw.name === "customers"
        ? ["customer_ids", "properties", "update_timestamp"]
        : ["customer_ids", "event_type", "timestamp", "properties"];
    const extraData = Object.keys(data).filter((k) => !allowed.includes(k));
    if (extraData.length > 0) this.flag(`${where}: unexpected data fields ${extraData.join(", ")}`);

    if (raw.name === "customers") {
      if (!isRecord(data.properties)) this.flag(`${where}: properties is not an object`);
      this.checkSeconds(data.update_timestamp, `${where}: update_timestamp`, false);
    } else {
      if (typeof data.event_type !== "string" || data.event_type === "") this.flag(`${where}: event_type missing`);
      if (data.properties !== undefined && !isRecord(data.properties))
        this.flag(`${where}: properties is not an object`);
      this.checkSeconds(data.timestamp, `${where}: timestamp`, true);
    }

    const ids = data.customer_ids;
    const validIds =
      isRecord(ids) &&
      Object.keys(ids).length > 0 &&
      Object.values(ids).every(
        (v) => typeof v === "string" && /[a-z0-9]/i.test(v) && !["null", "undefined"].includes(v.trim()),
      );
    if (!validIds) {
      this.flag(`${where}: customer_ids ${JSON.stringify(ids)} is empty or invalid`);
      return { success: false, errors: ["At least one id should be specified."] };
    }

    const command = raw as unknown as BloomreachCommand;
    const failure = this.failures.find((f) => f.predicate(command));
    if (failure) return { success: false, errors: [failure.message] };
    this.commands.push(command);
    return { success: true };
  }

  private checkSeconds(value: unknown, what: string, required: boolean): void {
    if (value === undefined) {
      if (required) this.flag(`${what} missing`);
      return;
    }
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0)
      this.flag(`${what} is not Unix seconds: ${String(value)}`);
    else if (value > MILLISECONDS_THRESHOLD) this.flag(`${what} ${value} looks like milliseconds, not seconds`);
  }

  private attributes(body: unknown, where: string): Response {
    const ok =
      isRecord(body) &&
      isRecord(body.customer_ids) &&
      Object.keys(body.customer_ids).length > 0 &&
      Array.isArray(body.attributes) &&
      body.attributes.length > 0 &&
      body.attributes.every((a) => isRecord(a) && a.type === "property" && typeof a.property === "string");
    if (!ok) {
      this.flag(`${where}: malformed attributes request ${JSON.stringify(body)}`);
      return json(400, { success: false, message: "Invalid JSON" });
    }
    const ids = body.customer_ids as Record<string, unknown>;
    const attributes = body.attributes as { property: string }[];
    if (!this.getPermission) {
      return json(200, { success: true, results: attributes.map(() => ({ success: false, error: "No permission" })) });
    }
    // Answer from what this project has been told about the customer, newest write last.
    const props: Record<string, unknown> = {};
    for (const c of this.customers()) {
      if (Object.entries(ids).some(([k, v]) => c.customer_ids[k] === v)) Object.assign(props, c.properties);
    }
    return json(200, {
      success: true,
      results: attributes.map((a) => ({ success: true, value: props[a.property] ?? null })),
    });
  }

  /** GDPR anonymization of one customer: `{customer_ids}` and nothing else. */
  private anonymize(body: unknown, where: string): Response {
    const ids = isRecord(body) ? body.customer_ids : undefined;
    const extra = isRecord(body) ? Object.keys(body).filter((k) => k !== "customer_ids") : [];
    const valid =
      isRecord(ids) &&
      Object.keys(ids).length > 0 &&
      Object.values(ids).every((v) => typeof v === "string" && /[a-z0-9]/i.test(v));
    if (!valid || extra.length > 0) {
      this.flag(`${where}: malformed anonymize request ${JSON.stringify(body)}`);
      return json(400, { success: false, message: "Invalid JSON" });
    }
    this.anonymized.push(ids as Record<string, string>);
    return json(200, { success: true });
  }

  private takeScripted(route: FakeRoute): ScriptedResponse | undefined {
    const head = this.queue[0];
    if (head === undefined || (head.route !== undefined && head.route !== route)) return undefined;
    return this.queue.shift();
  }

  private async playScripted(
    s: ScriptedResponse,
    signal: AbortSignal | null | undefined,
    where: string,
  ): Promise<Response> {
    if ("kind" in s) return playTransportFault(s, signal, (m) => this.flag(`${where}: ${m}`), "FakeBloomreach");
    const headers: Record<string, string> = {};
    if (s.retryAfter !== undefined) headers["retry-after"] = String(s.retryAfter);
    const body = s.body !== undefined ? s.body : defaultErrorBody(s.status);
    return json(s.status, body, headers);
  }

  private flag(message: string): void {
    this.unexpected.push(message);
  }

  private reject(message: string, status = 400): Response {
    this.flag(message);
    return json(status, { success: false, error: `FakeBloomreach: ${message}` });
  }
}

function defaultErrorBody(status: number): unknown {
  if (status === 429) return { success: false, error: "Too many requests" };
  if (status >= 500) return { success: false, error: "Internal server error" };
  if (status === 401) return { success: false, error: "Unknown API key" };
  if (status === 403) return { success: false, errors: ["Forbidden"] };
  return { success: false, message: "Invalid JSON" };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return new Response(text, { status, headers: { "content-type": "application/json", ...headers } });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function decodeBase64Utf8(b64: string): string | undefined {
  try {
    const binary = atob(b64);
    return new TextDecoder().decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    isRecord(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
