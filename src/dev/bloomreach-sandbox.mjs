/**
 * A local Bloomreach Engagement stand-in for `npm start`: speaks the vendor's wire format (see
 * docs/vendor-apis.md), so the relay runs unchanged against it, and shows what
 * the relay sent at `GET /` (HTML) and `GET /records` (JSON). It accepts every well-formed command,
 * like Bloomreach does; what real Bloomreach would silently misread (millisecond timestamps, empty
 * customer ids) is flagged as a warning on the record rather than refused, so a developer sees it.
 * Failures on purpose (sandbox-failures.mjs) come from `POST /fail` or the page's forms.
 *
 * Not the tests' fake: the vitest suite uses test/fakes/fake-bloomreach.ts, which fails closed.
 * This one is forgiving, for people; test/browser/local-relay.mjs starts it too.
 *
 * Usable alone: `node src/dev/bloomreach-sandbox.mjs` (listens on 127.0.0.1:8788).
 */
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import { livePayload, renderPage } from "./bloomreach-sandbox-page.mjs";
import { consume, describeFailure, matchesRefusal, NORMAL, parseFailure, refusalTarget } from "./sandbox-failures.mjs";

export const SANDBOX_DEFAULTS = {
  host: "127.0.0.1",
  port: 8788,
  projectToken: "demo-project",
  apiKeyId: "demo-key",
  apiSecret: "demo-secret",
  /** Newest records kept: memory stays bounded however long the sandbox runs. */
  maxRecords: 2000,
};

const MAX_COMMANDS = 50;
const MAX_BODY_BYTES = 800 * 1024;
/** 1e11 seconds is the year 5138; anything larger was meant as milliseconds. */
const MS_THRESHOLD = 1e11;

const ROUTES = [
  ["time", "GET", /^\/track\/v2\/projects\/([^/]+)\/system\/time$/],
  ["batch", "POST", /^\/track\/v2\/projects\/([^/]+)\/batch$/],
  ["customers", "POST", /^\/track\/v2\/projects\/([^/]+)\/customers$/],
  ["customers/events", "POST", /^\/track\/v2\/projects\/([^/]+)\/customers\/events$/],
  ["attributes", "POST", /^\/data\/v2\/projects\/([^/]+)\/customers\/attributes$/],
  ["anonymize", "POST", /^\/data\/v2\/projects\/([^/]+)\/customers\/anonymize$/],
];

export function startBloomreachSandbox(options = {}) {
  const opts = { ...SANDBOX_DEFAULTS, ...options };
  const records = [];
  let seq = 0;
  /** `POST /fail`: what the next calls answer instead (to see retries, dead letters, a pause). */
  let failing = NORMAL;
  let publicUrl = `http://${opts.host}:${opts.port}`;
  const expectedAuth = `Basic ${Buffer.from(`${opts.apiKeyId}:${opts.apiSecret}`).toString("base64")}`;

  const record = (entry) => {
    records.push({ seq: ++seq, at: new Date().toISOString(), ...entry });
    if (records.length > opts.maxRecords) records.splice(0, records.length - opts.maxRecords);
  };

  const server = createServer(async (req, res) => {
    try {
      await handle(req, res);
    } catch (error) {
      send(res, 500, { success: false, error: `sandbox error: ${error.message}` });
    }
  });

  async function handle(req, res) {
    const url = new URL(req.url, `http://${opts.host}`);
    if (req.method === "GET" && url.pathname === "/")
      return sendHtml(res, renderPage({ records, failing, opts, url: sandboxUrl() }));
    // Browsers ask for it on every page; a 404 would show as an error in their console.
    if (req.method === "GET" && url.pathname === "/favicon.ico") return res.writeHead(204).end();
    if (req.method === "GET" && url.pathname === "/live") return send(res, 200, livePayload(records, failing));
    if (req.method === "GET" && url.pathname === "/records")
      return send(res, 200, { count: records.length, records: [...records].reverse() });
    if (req.method === "DELETE" && url.pathname === "/records") {
      records.length = 0;
      return send(res, 200, { cleared: true });
    }
    if (url.pathname === "/fail") return handleFail(req, res, url);

    const match = ROUTES.map(([name, method, re]) => ({ name, method, m: re.exec(url.pathname) })).find((r) => r.m);
    if (!match) return send(res, 404, { success: false, error: "Not found" });
    if (match.method !== req.method) return send(res, 405, { success: false, error: "Method not allowed" });
    const token = decodeURIComponent(match.m[1]);
    if (token !== opts.projectToken) return send(res, 404, { success: false, error: "Project not found" });
    // Never failed on purpose: it is the connection test's "is this Bloomreach at all" step.
    if (match.name === "time") return send(res, 200, { success: true, time: Date.now() / 1000 });
    if (failing.mode === "status" && failing.remaining > 0) {
      const { status, retryAfter } = failing;
      failing = consume(failing);
      record({
        kind: "refused",
        name: match.name,
        data: null,
        warnings: [`failed on purpose: HTTP ${status}${retryAfter ? `, Retry-After ${retryAfter}` : ""}`],
      });
      return send(
        res,
        status,
        { success: false, errors: [`sandbox failure on purpose (HTTP ${status})`] },
        retryAfter ? { "retry-after": String(retryAfter) } : {},
      );
    }

    const auth = req.headers.authorization ?? "";
    if (!auth.startsWith("Basic ")) return reject(res, 401, "Missing credentials", match.name);
    const [keyId] = Buffer.from(auth.slice(6), "base64").toString("utf8").split(":");
    if (keyId !== opts.apiKeyId) return reject(res, 401, "Unknown API key", match.name);
    if (auth !== expectedAuth) return reject(res, 403, "Invalid API secret", match.name);

    const text = await readBody(req);
    if (text === undefined) return send(res, 413, { success: false, message: "Request too large" });
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      return send(res, 400, { success: false, message: "Invalid JSON" });
    }

    if (match.name === "attributes") {
      record({ kind: "attributes", data: body, warnings: [] });
      const attributes = Array.isArray(body?.attributes) ? body.attributes : [];
      return send(res, 200, { success: true, results: attributes.map(() => ({ success: true, value: null })) });
    }
    if (match.name === "anonymize") {
      const ids = body?.customer_ids;
      if (!ids || typeof ids !== "object" || Object.keys(ids).length === 0)
        return send(res, 400, { success: false, message: "customer_ids missing" });
      record({ kind: "anonymize", data: body, warnings: [] });
      return send(res, 200, { success: true });
    }
    if (match.name === "batch") {
      const commands = Array.isArray(body?.commands) ? body.commands : [];
      if (commands.length === 0) return send(res, 400, { success: false, message: "No commands" });
      if (commands.length > MAX_COMMANDS)
        return send(res, 400, { success: false, message: `At most ${MAX_COMMANDS} commands per batch` });
      const start = Date.now() / 1000;
      const refused = takeCommandRefusals(commands);
      const results = commands.map((command, index) =>
        refused.has(index)
          ? refuseOnPurpose(command.name, command.data, `${refused.get(index)}command ${index + 1} of the batch`)
          : acceptCommand(command.name, command.data, command.command_id),
      );
      return send(res, 200, { success: true, start_time: start, end_time: Date.now() / 1000, results });
    }
    // The single-command routes answer like one batch result.
    const single = takeCommandRefusals([{ name: match.name, data: body }]);
    const result = single.has(0)
      ? refuseOnPurpose(match.name, body, `${single.get(0)}a single command`)
      : acceptCommand(match.name, body);
    return send(res, 200, result.success ? { success: true } : { success: false, errors: result.errors });
  }

  /** `POST /fail` (query or form fields); a form post from the page goes back to the page. */
  async function handleFail(req, res, url) {
    if (req.method === "GET") return send(res, 200, { failing, description: describeFailure(failing) });
    if (req.method !== "POST") return send(res, 405, { success: false, error: "Method not allowed" });
    const fromForm = (req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded");
    const form = fromForm ? new URLSearchParams((await readBody(req)) ?? "") : new URLSearchParams();
    const parsed = parseFailure((name) => form.get(name) ?? url.searchParams.get(name) ?? undefined);
    if (!parsed.ok) {
      if (fromForm)
        return sendHtml(res, renderPage({ records, failing, opts, url: sandboxUrl(), notice: parsed.message }), 400);
      return send(res, 400, { success: false, message: parsed.message });
    }
    failing = parsed.plan;
    if (fromForm) {
      res.writeHead(303, { location: "/" });
      return res.end();
    }
    return send(res, 200, { failing, description: describeFailure(failing) });
  }

  /**
   * The batch indexes to refuse on purpose, each with what names it in the error ("" for a place).
   * By place: one per batch, the last of a batch shorter than the place. By what the command is:
   * every match while the plan has times left; a batch without one leaves the plan as it was.
   */
  function takeCommandRefusals(commands) {
    const refused = new Map();
    if (failing.mode !== "refuse-command" || failing.remaining <= 0) return refused;
    if ("command" in failing) {
      refused.set(Math.min(failing.command, commands.length) - 1, "");
      failing = consume(failing);
      return refused;
    }
    commands.forEach((command, index) => {
      if (failing.remaining <= 0 || !matchesRefusal(failing, command?.name, command?.data)) return;
      refused.set(index, `${refusalTarget(failing)}, `);
      failing = consume(failing);
    });
    return refused;
  }

  function refuseOnPurpose(name, data, which) {
    record({ kind: "refused", name, data, warnings: [`refused on purpose: ${which}`] });
    return { success: false, errors: [`sandbox refusal on purpose (${which})`] };
  }

  function acceptCommand(name, data, commandId) {
    if (name !== "customers" && name !== "customers/events") {
      record({ kind: "refused", name, data, warnings: [`unknown command ${name}`] });
      return { success: false, errors: [`Unknown command: ${name}`] };
    }
    const ids = data?.customer_ids;
    if (!ids || typeof ids !== "object" || Object.keys(ids).length === 0) {
      record({ kind: "refused", name, data, warnings: ["no customer id"] });
      return { success: false, errors: ["At least one id should be specified."] };
    }
    record({ kind: name, ...(commandId !== undefined ? { commandId } : {}), data, warnings: warningsFor(name, data) });
    return { success: true };
  }

  function reject(res, status, message, route) {
    record({ kind: "auth_failed", name: route, data: null, warnings: [`${status} ${message}`] });
    return send(res, status, { success: false, errors: [message] });
  }

  const sandboxUrl = () => publicUrl;

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      // Port 0 asks the system for a free port: report the one it gave.
      publicUrl = `http://${opts.host}:${server.address().port}`;
      resolve({
        url: publicUrl,
        records,
        /**
         * The same plan as `POST /fail` takes (`{status, times}`, `{mode: "refuse-command", command}` or
         * `{mode: "refuse-command", eventType, customer}`); throws on a bad one.
         */
        fail(fields = {}) {
          const parsed = parseFailure((name) => (fields[name] === undefined ? undefined : String(fields[name])));
          if (!parsed.ok) throw new Error(parsed.message);
          return this.setFailure(parsed.plan);
        },
        /** A plan parseFailure or parseFailureFlag made; answers it in words. */
        setFailure(plan) {
          failing = plan;
          return describeFailure(failing);
        },
        failing: () => failing,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

function warningsFor(name, data) {
  const warnings = [];
  const stamp = name === "customers" ? data.update_timestamp : data.timestamp;
  if (typeof stamp === "number" && stamp > MS_THRESHOLD)
    warnings.push("timestamp looks like milliseconds; Bloomreach reads seconds");
  if (name === "customers/events" && typeof data.event_type !== "string") warnings.push("event_type missing");
  return warnings;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendHtml(res, html, status = 200) {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  res.end(html);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const sandbox = await startBloomreachSandbox();
  console.log(`Bloomreach sandbox on ${sandbox.url}`);
  const stop = () => sandbox.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
