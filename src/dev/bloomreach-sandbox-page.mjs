/**
 * The Bloomreach sandbox's page (`GET /`): its credentials, a form per failure on purpose, and
 * what the relay sent. Plain HTML with one inline script and no external assets, because the
 * sandbox is a bare node:http server that must run offline. The script refreshes the records and
 * the failure state in place every 2 s (`GET /live`) instead of reloading the page, so a form
 * being filled in is never wiped.
 */
import { describeFailure } from "./sandbox-failures.mjs";

const SHOWN_RECORDS = 500;

export const escapeHtml = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

function summary(r) {
  const d = r.data ?? {};
  const ids = d.customer_ids
    ? Object.entries(d.customer_ids)
        .map(([k, v]) => `${escapeHtml(k)}=${escapeHtml(v)}`)
        .join(", ")
    : "";
  if (r.kind === "customers/events")
    return `${ids} &middot; <b>${escapeHtml(d.event_type ?? "?")}</b> @ ${escapeHtml(d.timestamp ?? "-")}`;
  if (r.kind === "customers")
    return `${ids} &middot; ${Object.keys(d.properties ?? {}).length} properties @ ${escapeHtml(d.update_timestamp ?? "-")}`;
  return ids;
}

export function renderRows(records) {
  const rows = [...records]
    .reverse()
    .slice(0, SHOWN_RECORDS)
    .map(
      (r) => `<tr class="${r.kind.replace(/\W/g, "-")}"><td>${r.seq}</td><td>${escapeHtml(r.at.slice(11, 23))}</td>
<td>${escapeHtml(r.kind)}${r.name && r.name !== r.kind ? ` <small>(${escapeHtml(r.name)})</small>` : ""}</td>
<td>${summary(r)}${r.warnings.length ? `<div class="warn">${r.warnings.map(escapeHtml).join("<br>")}</div>` : ""}</td>
<td><details><summary>data</summary><pre>${escapeHtml(JSON.stringify(r.data, null, 2))}</pre></details></td></tr>`,
    )
    .join("\n");
  return rows || '<tr><td colspan="5">Nothing yet: post a webhook to the relay.</td></tr>';
}

/** What `GET /live` answers: the parts of the page that change. */
export const livePayload = (records, failing) => ({
  failing: describeFailure(failing),
  abnormal: failing.remaining > 0,
  count: records.length,
  rows: renderRows(records),
});

const timesField = (id, label = "Calls") =>
  `<label for="${id}">${label}</label><input id="${id}" name="times" type="number" inputmode="numeric" min="1" max="1000" value="1">`;

/** One form per failure; each says what the relay will do with it. */
function failureForms() {
  return `<div class="forms">
<form method="post" action="/fail"><fieldset><legend>Too many requests (HTTP 429)</legend>
<input type="hidden" name="mode" value="status"><input type="hidden" name="status" value="429">
${timesField("f429-times")}
<label for="f429-retry">Retry-After (seconds, 0 = none)</label><input id="f429-retry" name="retryAfter" type="number" inputmode="numeric" min="0" max="3600" value="5">
<p class="hint">Retried after Retry-After: the delivery goes <code>retrying</code>, then <code>delivered</code>.</p>
<button type="submit">Fail with 429</button></fieldset></form>
<form method="post" action="/fail"><fieldset><legend>Server error (HTTP 500)</legend>
<input type="hidden" name="mode" value="status"><input type="hidden" name="status" value="500">
${timesField("f500-times")}
<p class="hint">Retried with backoff: <code>retrying</code>, then <code>delivered</code>.</p>
<button type="submit">Fail with 500</button></fieldset></form>
<form method="post" action="/fail"><fieldset><legend>Refuse one command</legend>
<input type="hidden" name="mode" value="refuse-command">
<label for="frefuse-event">Event type (<code>event_type</code>)</label><input id="frefuse-event" name="eventType" type="text" class="wide" placeholder="loyalty_tier_gold" autocomplete="off">
<label for="frefuse-customer">Customer id value</label><input id="frefuse-customer" name="customer" type="text" class="wide" placeholder="ada@example.com" autocomplete="off">
<label for="frefuse-command">Or: command in the batch (1 = first)</label><input id="frefuse-command" name="command" type="number" inputmode="numeric" min="1" max="50">
${timesField("frefuse-times", "Times")}
<p class="hint">The next event of that type, for that customer id (a value of <code>customer_ids</code>, such as the e-mail), or both, wherever it is in its batch; or the command at that place of the next batch. Its batch answers 200 with <code>{"success": false, "errors": [...]}</code> for it: the delivery ends <code>dead</code>; replay it from the relay's UI.</p>
<button type="submit">Refuse a command</button></fieldset></form>
<form method="post" action="/fail"><fieldset><legend>Refuse the credentials (HTTP 401)</legend>
<input type="hidden" name="mode" value="status"><input type="hidden" name="status" value="401">
${timesField("f401-times")}
<p class="hint">The relay pauses delivery and parks events until the connection is saved again (or a connection test passes).</p>
<button type="submit">Fail with 401</button></fieldset></form>
<form method="post" action="/fail"><fieldset><legend>Back to normal</legend>
<input type="hidden" name="mode" value="normal">
<p class="hint">Cancels what is left of a failure above.</p>
<button type="submit">Answer normally</button></fieldset></form>
</div>`;
}

// Polls /live while the tab is visible; a failed poll (sandbox stopped) just waits for the next one.
const LIVE_SCRIPT = `(() => {
  const state = document.getElementById("failing"), rows = document.getElementById("rows"), count = document.getElementById("count");
  setInterval(async () => {
    if (document.hidden) return;
    try {
      const live = await (await fetch("/live", { cache: "no-store" })).json();
      state.textContent = live.failing;
      state.className = live.abnormal ? "state abnormal" : "state";
      count.textContent = String(live.count);
      rows.innerHTML = live.rows;
    } catch {}
  }, 2000);
})();`;

export function renderPage({ records, failing, opts, url, notice }) {
  const live = livePayload(records, failing);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bloomreach sandbox</title><style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222;max-width:80em}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f4f4f4}
.records{overflow-x:auto}.customers-events td:nth-child(3){color:#0a6}.customers td:nth-child(3){color:#06a}.auth_failed,.refused{background:#fee}
.warn{color:#b60}pre{margin:0;font-size:12px;white-space:pre-wrap;word-break:break-all}code{background:#f4f4f4;padding:1px 4px;word-break:break-all}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px}dd{margin:0}
.forms{display:grid;grid-template-columns:repeat(auto-fill,minmax(15em,1fr));gap:12px}
fieldset{border:1px solid #ccc;border-radius:6px;height:100%;box-sizing:border-box}legend{font-weight:600}
label{display:block;margin-top:6px}input{width:6em}input.wide{width:100%;box-sizing:border-box}.hint{color:#555;font-size:13px}button{margin-top:6px}
.state{padding:8px 12px;border-radius:6px;background:#eef7ee}.state.abnormal{background:#fff3d6}.notice{color:#b00}</style></head><body>
<h1>Bloomreach sandbox</h1>
<section aria-labelledby="creds"><h2 id="creds">Credentials</h2>
<p>Local sandbox values, not secrets: <code>npm start</code> saves them in the relay's Bloomreach connection.</p>
<dl><dt>API base URL</dt><dd><code>${escapeHtml(url)}</code></dd>
<dt>Project token</dt><dd><code>${escapeHtml(opts.projectToken)}</code></dd>
<dt>API key ID</dt><dd><code>${escapeHtml(opts.apiKeyId)}</code></dd>
<dt>API secret</dt><dd><code>${escapeHtml(opts.apiSecret)}</code></dd></dl></section>
<section aria-labelledby="fail"><h2 id="fail">Fail on purpose</h2>
<p id="failing" class="state${live.abnormal ? " abnormal" : ""}" role="status">${escapeHtml(live.failing)}</p>
${notice ? `<p class="notice" role="alert">${escapeHtml(notice)}</p>` : ""}
${failureForms()}
<p class="hint">A failure applies to the relay's calls (batches, the connection test's credentials probe), never to the time check, which only proves the base URL and token. Or from a shell: <code>curl -X POST '${escapeHtml(url)}/fail?status=503&amp;times=3'</code>, <code>?mode=refuse-command&amp;eventType=loyalty_tier_gold</code> (also <code>&amp;customer=ada@example.com</code>, or <code>&amp;command=2</code> for a place in the batch), <code>?times=0</code> (normal).</p></section>
<section aria-labelledby="recs"><h2 id="recs">What the relay sent</h2>
<p><span id="count">${live.count}</span> record(s), newest first; updated every 2 s; JSON at <a href="/records">/records</a>.</p>
<div class="records"><table><thead><tr><th>#</th><th>time (UTC)</th><th>command</th><th>summary</th><th>data</th></tr></thead>
<tbody id="rows">${live.rows}</tbody></table></div></section>
<script>${LIVE_SCRIPT}</script></body></html>`;
}
