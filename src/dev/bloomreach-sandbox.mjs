/**
 * A local Bloomreach Engagement stand-in for `npm start`: speaks the vendor's wire format (see
 * docs/vendor-apis.md), so the relay runs unchanged against it, and shows what
 * the relay sent at `GET /` (HTML) and `GET /records` (JSON). It accepts every well-formed command,
 * like Bloomreach does; what real Bloomreach would silently misread (millisecond timestamps, empty
 * customer ids) is flagged as a warning on the record rather than refused, so a developer sees it.
 *
 * Usable alone: `node src/dev/bloomreach-sandbox.mjs` (listens on 127.0.0.1:8788).
 */
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";

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
  /** `POST /fail`: the next calls answer this instead (to see retries, dead letters, a pause). */
  let failing = { status: 0, remaining: 0 };
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
    if (req.method === "GET" && url.pathname === "/") return sendHtml(res, renderPage(records, opts));
    if (req.method === "GET" && url.pathname === "/records")
      return send(res, 200, { count: records.length, records: [...records].reverse() });
    if (req.method === "DELETE" && url.pathname === "/records") {
      records.length = 0;
      return send(res, 200, { cleared: true });
    }
    if (req.method === "POST" && url.pathname === "/fail") {
      const status = Number(url.searchParams.get("status") ?? 503);
      const times = Number(url.searchParams.get("times") ?? 1);
      if (!Number.isInteger(status) || status < 400 || status > 599 || !Number.isInteger(times) || times < 0)
        return send(res, 400, { success: false, message: "use /fail?status=<400-599>&times=<n>" });
      failing = { status, remaining: times };
      return send(res, 200, { failing });
    }

    const match = ROUTES.map(([name, method, re]) => ({ name, method, m: re.exec(url.pathname) })).find((r) => r.m);
    if (!match) return send(res, 404, { success: false, error: "Not found" });
    if (match.method !== req.method) return send(res, 405, { success: false, error: "Method not allowed" });
    const token = decodeURIComponent(match.m[1]);
    if (token !== opts.projectToken) return send(res, 404, { success: false, error: "Project not found" });
    if (match.name === "time") return send(res, 200, { success: true, time: Date.now() / 1000 });
    if (failing.remaining > 0) {
      failing.remaining--;
      record({ kind: "refused", name: match.name, data: null, warnings: [`failed on purpose: ${failing.status}`] });
      return send(res, failing.status, { success: false, errors: [`sandbox failure on purpose (${failing.status})`] });
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
      const results = commands.map((command) => acceptCommand(command.name, command.data, command.command_id));
      return send(res, 200, { success: true, start_time: start, end_time: Date.now() / 1000, results });
    }
    // The single-command routes answer like one batch result.
    const result = acceptCommand(match.name, body);
    return send(res, 200, result.success ? { success: true } : { success: false, errors: result.errors });
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

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve({
        url: `http://${opts.host}:${opts.port}`,
        records,
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

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function sendHtml(res, html) {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  res.end(html);
}

const escapeHtml = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

function summary(r) {
  const d = r.data ?? {};
  const ids = d.customer_ids
    ? Object.entries(d.customer_ids)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ")
    : "";
  if (r.kind === "customers/events")
    return `${ids} &middot; <b>${escapeHtml(d.event_type ?? "?")}</b> @ ${escapeHtml(d.timestamp ?? "-")}`;
  if (r.kind === "customers")
    return `${ids} &middot; ${Object.keys(d.properties ?? {}).length} properties @ ${escapeHtml(d.update_timestamp ?? "-")}`;
  return escapeHtml(ids);
}

function renderPage(records, opts) {
  const rows = [...records]
    .reverse()
    .slice(0, 500)
    .map(
      (
        r,
      ) => `<tr class="${r.kind.replace(/\W/g, "-")}"><td>${r.seq}</td><td>${escapeHtml(r.at.slice(11, 23))}</td><td>${escapeHtml(r.kind)}</td>
<td>${summary(r)}${r.warnings.length ? `<div class="warn">${r.warnings.map(escapeHtml).join("<br>")}</div>` : ""}</td>
<td><details><summary>data</summary><pre>${escapeHtml(JSON.stringify(r.data, null, 2))}</pre></details></td></tr>`,
    )
    .join("\n");
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>Bloomreach sandbox</title><style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f4f4f4}
.customers-events td:nth-child(3){color:#0a6}.customers td:nth-child(3){color:#06a}.auth_failed,.refused{background:#fee}
.warn{color:#b60}pre{margin:0;font-size:12px}code{background:#f4f4f4;padding:1px 4px}</style></head><body>
<h1>Bloomreach sandbox</h1>
<p>Project <code>${escapeHtml(opts.projectToken)}</code>, API key <code>${escapeHtml(opts.apiKeyId)}</code>.
${records.length} command(s) recorded (newest first; this page refreshes every 2 s; JSON at <a href="/records">/records</a>).</p>
<table><tr><th>#</th><th>time (UTC)</th><th>command</th><th>summary</th><th></th></tr>
${rows || '<tr><td colspan="5">Nothing yet: post a webhook to the relay.</td></tr>'}
</table></body></html>`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const sandbox = await startBloomreachSandbox();
  console.log(`Bloomreach sandbox on ${sandbox.url}`);
  const stop = () => sandbox.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
