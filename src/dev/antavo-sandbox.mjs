/**
 * A local Antavo API stand-in for `npm start`, beside the Bloomreach one: it verifies every
 * request's Escher signature (ANTAVO-HMAC-SHA256, written from reference/vendor-apis.md with
 * node:crypto, independent of src/antavo/signer.ts) and records the events the relay sends
 * (`POST /events`, `POST /events/bulk`), so the Bloomreach -> Antavo round trip can be seen without
 * an Antavo account: `GET /` (HTML) and `GET /records` (JSON). `GET /customers/{id}` answers the
 * customers it was given (`seedCustomer`), else Antavo's 404 160212, so enrichment plans with what
 * the event carries. Reward claims (`POST /v1/bulk-operation/reward/claim/{rewardId}`, the free
 * claim, and `POST /customers/{id}/activities/rewards/{rewardId}/claim`) are recorded and answered
 * with a made-up coupon, so a birthday-reward workflow runs end to end: what Antavo's bulk claim
 * really answers is not documented (docs/vendor-apis.md), the paid claim's shape is used for both.
 * Unsigned or badly signed requests are refused with 401 and shown in red.
 *
 * Usable alone: `node src/dev/antavo-sandbox.mjs` (listens on 127.0.0.1:8789).
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";

export const ANTAVO_SANDBOX_DEFAULTS = {
  host: "127.0.0.1",
  port: 8789,
  environment: "sandbox",
  apiKey: "sandbox-key",
  apiSecret: "sandbox-secret",
  maxRecords: 2000,
};

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_BULK = 50;
const AUTH_RE =
  /^ANTAVO-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/api\/antavo_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

const sha256 = (data) => createHash("sha256").update(data, "utf8").digest("hex");
/** Escher's query encoding: unreserved characters plus `!` and `*` stay, `'()` are escaped. */
const encodeEscher = (text) =>
  encodeURIComponent(text).replace(/['()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The reason a request's signature does not hold, or undefined when it does. */
export function signatureProblem(opts, { method, url, headers, body }) {
  const match = AUTH_RE.exec(headers.authorization ?? "");
  if (!match) return `missing or malformed Authorization: ${headers.authorization ?? "(none)"}`;
  const [, keyId, shortDate, environment, signedHeaders, signature] = match;
  if (keyId !== opts.apiKey) return `unknown API key ${keyId}`;
  if (environment !== opts.environment) return `credential scope names environment ${environment}`;
  const names = signedHeaders.split(";");
  if (!names.includes("date") || !names.includes("host")) return "date and host must be signed";
  const date = headers.date ?? "";
  if (!/^\d{8}T\d{6}Z$/.test(date) || date.slice(0, 8) !== shortDate) return `date header "${date}"`;
  const query = [...url.searchParams]
    .map(([k, v]) => `${encodeEscher(k)}=${encodeEscher(v)}`)
    .sort()
    .join("&");
  const canonicalHeaders = names.map((n) => `${n}:${String(headers[n] ?? "").trim()}\n`).join("");
  const canonical = [
    method,
    url.pathname.replace(/\/{2,}/g, "/"),
    query,
    canonicalHeaders,
    signedHeaders,
    sha256(body),
  ].join("\n");
  const scope = `${shortDate}/${environment}/api/antavo_request`;
  const stringToSign = ["ANTAVO-HMAC-SHA256", date, scope, sha256(canonical)].join("\n");
  let key = Buffer.from(`ANTAVO${opts.apiSecret}`, "utf8");
  for (const part of [shortDate, environment, "api", "antavo_request"])
    key = createHmac("sha256", key).update(part).digest();
  const expected = createHmac("sha256", key).update(stringToSign).digest();
  const given = Buffer.from(signature, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected) ? undefined : "signature mismatch";
}

const isRecord = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
const isEvent = (e) =>
  isRecord(e) &&
  typeof e.customer === "string" &&
  e.customer !== "" &&
  typeof e.action === "string" &&
  e.action !== "" &&
  (e.data === undefined || isRecord(e.data));

export function startAntavoSandbox(options = {}) {
  const opts = { ...ANTAVO_SANDBOX_DEFAULTS, ...options };
  const records = [];
  const customers = new Map();
  let seq = 0;
  const record = (entry) => {
    records.push({ seq: ++seq, at: new Date().toISOString(), ...entry });
    if (records.length > opts.maxRecords) records.splice(0, records.length - opts.maxRecords);
  };

  const server = createServer(async (req, res) => {
    try {
      await handle(req, res);
    } catch (error) {
      send(res, 500, { error: { type: "ServerError", code: 500, message: `sandbox error: ${error.message}` } });
    }
  });

  async function handle(req, res) {
    const url = new URL(req.url, `http://${req.headers.host ?? opts.host}`);
    if (req.method === "GET" && url.pathname === "/") return sendHtml(res, renderPage(records, opts));
    if (req.method === "GET" && url.pathname === "/records")
      return send(res, 200, { count: records.length, records: [...records].reverse() });
    if (req.method === "DELETE" && url.pathname === "/records") {
      records.length = 0;
      return send(res, 200, { cleared: true });
    }
    const body = await readBody(req);
    if (body === undefined) return send(res, 413, antavoError("ValidationError", 160303, "Request too large"));
    const problem = signatureProblem(opts, { method: req.method, url, headers: req.headers, body });
    const where = `${req.method} ${url.pathname}`;
    if (problem) {
      record({ kind: "refused", where, problem });
      return send(res, 401, antavoError("AuthenticationError", 160001, "Invalid or missing request signature"));
    }
    const customerMatch = /^\/customers\/([^/]+)$/.exec(url.pathname);
    if (req.method === "GET" && customerMatch) {
      const customer = customers.get(decodeURIComponent(customerMatch[1]));
      record({ kind: "lookup", where, signed: true, found: Boolean(customer) });
      return customer
        ? send(res, 200, customer)
        : send(res, 404, antavoError("NotFound", 160212, "Customer not found"));
    }
    const claimMatch =
      /^\/v1\/bulk-operation\/reward\/claim\/([^/]+)$/.exec(url.pathname) ??
      /^\/customers\/([^/]+)\/activities\/rewards\/([^/]+)\/claim$/.exec(url.pathname);
    if (req.method === "POST" && claimMatch) return claim(res, where, url, claimMatch, body);
    if (req.method === "POST" && (url.pathname === "/events" || url.pathname === "/events/bulk")) {
      let parsed;
      try {
        parsed = JSON.parse(body);
      } catch {
        return send(res, 400, antavoError("ValidationError", 160303, "Invalid JSON"));
      }
      if (url.pathname === "/events") {
        if (!isEvent(parsed)) return send(res, 400, antavoError("ValidationError", 160303, "Invalid event"));
        record({ kind: "event", where, signed: true, event: parsed });
        return send(res, 200, { ...(customers.get(parsed.customer) ?? { id: parsed.customer }), events: [parsed] });
      }
      const events = isRecord(parsed) && Array.isArray(parsed.events) ? parsed.events : [];
      if (events.length === 0 || events.length > MAX_BULK)
        return send(res, 400, antavoError("ValidationError", 160303, `1..${MAX_BULK} events per bulk call`));
      const results = events.map((event) => {
        if (!isEvent(event)) return { error: { type: "ValidationError", code: 160303, message: "Invalid event" } };
        record({ kind: "event", where, signed: true, event });
        return { events: [event] };
      });
      return send(res, 200, { results, total: results.length, errors: results.filter((r) => r.error).length });
    }
    record({ kind: "refused", where, problem: "no such route in the sandbox" });
    return send(res, 404, antavoError("NotFound", 160000, "Not found"));
  }

  /** A reward claim: the bulk (free, JSON `{customers, force_claim}`) or the paid one (form body). */
  function claim(res, where, url, match, body) {
    const bulk = url.pathname.startsWith("/v1/");
    let customerIds;
    let rewardId;
    if (bulk) {
      rewardId = decodeURIComponent(match[1]);
      let parsed;
      try {
        parsed = JSON.parse(body);
      } catch {
        return send(res, 400, antavoError("ValidationError", 160303, "Invalid JSON"));
      }
      customerIds = Array.isArray(parsed?.customers) ? parsed.customers.filter((id) => typeof id === "string") : [];
      if (customerIds.length === 0) return send(res, 400, antavoError("ValidationError", 160303, "customers missing"));
    } else {
      customerIds = [decodeURIComponent(match[1])];
      rewardId = decodeURIComponent(match[2]);
    }
    const id = `claim-${seq + 1}`;
    const coupon = {
      code: `SANDBOX-${rewardId}-${seq + 1}`.toUpperCase(),
      type: "fixed",
      value: 10,
      expires_at: Math.floor(Date.now() / 1000) + 30 * 86_400,
    };
    record({ kind: "claim", where, signed: true, claim: { rewardId, customers: customerIds, free: bulk, coupon } });
    return send(res, 200, { spent: 0, id, last_claimed_at: Math.floor(Date.now() / 1000), coupon });
  }

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve({
        // Port 0 asks the system for a free port: report the one it gave.
        url: `http://${opts.host}:${server.address().port}`,
        ...opts,
        records,
        seedCustomer: (customer) => customers.set(customer.id, customer),
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

const antavoError = (type, code, message) => ({ error: { type, code, message } });

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
  if (r.kind === "event")
    return `customer <b>${escapeHtml(r.event.customer)}</b> &middot; <b>${escapeHtml(r.event.action)}</b> &middot; signature verified`;
  if (r.kind === "claim")
    return `reward <b>${escapeHtml(r.claim.rewardId)}</b> claimed for ${r.claim.customers.map(escapeHtml).join(", ")}${r.claim.free ? " (free)" : ""} &middot; coupon <code>${escapeHtml(r.claim.coupon.code)}</code> &middot; signature verified`;
  if (r.kind === "lookup") return `${escapeHtml(r.where)} &middot; ${r.found ? "found" : "unknown customer (404)"}`;
  return `${escapeHtml(r.where)} &middot; <span class="warn">${escapeHtml(r.problem)}</span>`;
}

function renderPage(records, opts) {
  const rows = [...records]
    .reverse()
    .slice(0, 500)
    .map(
      (
        r,
      ) => `<tr class="${r.kind}"><td>${r.seq}</td><td>${escapeHtml(r.at.slice(11, 23))}</td><td>${escapeHtml(r.kind)}</td>
<td>${summary(r)}</td><td>${r.event || r.claim ? `<details><summary>data</summary><pre>${escapeHtml(JSON.stringify(r.event ?? r.claim, null, 2))}</pre></details>` : ""}</td></tr>`,
    )
    .join("\n");
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>Antavo sandbox</title><style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f4f4f4}
.event td:nth-child(3),.claim td:nth-child(3){color:#0a6}.refused{background:#fee}.warn{color:#b60}pre{margin:0;font-size:12px}
code{background:#f4f4f4;padding:1px 4px}</style></head><body>
<h1>Antavo sandbox</h1>
<p>Environment <code>${escapeHtml(opts.environment)}</code>, API key <code>${escapeHtml(opts.apiKey)}</code>; every request's
Escher signature is checked. ${records.length} request(s) recorded (newest first; refreshes every 2 s; JSON at <a href="/records">/records</a>).</p>
<table><tr><th>#</th><th>time (UTC)</th><th>what</th><th>summary</th><th></th></tr>
${rows || '<tr><td colspan="5">Nothing yet: post a Bloomreach webhook to the relay.</td></tr>'}
</table></body></html>`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const sandbox = await startAntavoSandbox();
  console.log(`Antavo sandbox on ${sandbox.url}`);
  const stop = () => sandbox.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
