/**
 * Customers: look up a customer in the D1 mirror (what date workflows and filters see) by id or
 * hard-ID value, with its fields, what Bloomreach last received and its recent deliveries, and import
 * an Antavo export. The page script sends a large file in slices
 * (each within the import's per-request row limit) and fills a <progress>; without it the file
 * goes in one request and the summary says where to continue if it was cut.
 */

import type { BackfillProgress } from "../../services/backfill";
import type { ImportSummary } from "../../services/customer-import";
import {
  type CustomerLookup,
  type CustomerMatch,
  type LastReceived,
  RECEIVED_DELIVERIES,
} from "../../services/customer-lookup";
import type { ErasureReport } from "../../services/erasure";
import { CsrfField, ErrorSummary, Field, FieldError, type FormState, issueAt } from "../form";
import { formatTime, prettyJson } from "../format";
import { Page, type ViewContext } from "../layout";
import { type DeliveryList, DeliveryTable } from "./deliveries";

export function ImportResult(props: { summary: ImportSummary }) {
  const { summary } = props;
  return (
    <div
      class={`notice ${summary.rejectedCount > 0 || summary.warningCount > 0 || summary.truncated ? "warn" : "ok"}`}
      role="status"
    >
      <strong>{`Read ${summary.total} row(s): ${summary.imported} new, ${summary.updated} updated, ${summary.rejectedCount} rejected.`}</strong>
      {summary.truncated ? <p>{summary.truncated.message}</p> : null}
      {summary.warningCount > 0 ? (
        <>
          <p>{`Imported with a warning: ${summary.warningCount} row(s).`}</p>
          <ul data-import-warnings>
            {summary.warnings.map((w) => (
              <li>{`line ${w.line}: ${w.message}`}</li>
            ))}
          </ul>
        </>
      ) : null}
      {summary.rejected.length > 0 ? <p>Rejected:</p> : null}
      {summary.rejected.length > 0 ? (
        <ul>
          {summary.rejected.map((r) => (
            <li>{`line ${r.line}: ${r.reason}`}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

const count = (n: number) => n.toLocaleString("en-US");

/** What a sync run did, in words: how far it got, and who did not make it. */
export function BackfillOutcome(props: { job: BackfillProgress }) {
  const { job } = props;
  const done = job.sent + job.skipped + job.failed;
  const running = job.status === "running";
  const headline = running
    ? `Syncing… ${count(done)} of ${count(job.total)} customers`
    : job.status === "done"
      ? `Finished: ${count(done)} of ${count(job.total)} customers`
      : job.status === "cancelled"
        ? `Stopped: ${count(done)} of ${count(job.total)} customers were handled before it was stopped`
        : `Could not finish: ${job.error ?? "the sync stopped"}`;
  return (
    <div
      class={`notice ${job.failed > 0 || job.status === "failed" ? "warn" : running ? "info" : "ok"}`}
      role="status"
      aria-live="polite"
      data-backfill-outcome
    >
      <label for="backfill-progress">{headline}</label>
      <progress id="backfill-progress" max={Math.max(job.total, 1)} value={Math.min(done, job.total)} />
      <p>{`${count(job.sent)} sent · ${count(job.skipped)} already up to date · ${count(job.failed)} failed`}</p>
      {job.failures.length > 0 ? (
        <>
          <p>{job.failed > job.failures.length ? `The first ${job.failures.length} that failed:` : "These failed:"}</p>
          <ul>
            {job.failures.map((f) => (
              <li>
                <a href={`/admin/customers?id=${encodeURIComponent(f.customerId)}`}>{f.customerId}</a>
                {`: ${f.error ?? f.status}`}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}

function BackfillSection(props: { ctx: ViewContext; job?: BackfillProgress; error?: string }) {
  const { ctx, job } = props;
  const running = job?.status === "running";
  return (
    <section class="card" aria-labelledby="backfill-title">
      <h2 id="backfill-title">Sync all to Bloomreach</h2>
      <p class="hint">
        Sends the loyalty fields of every customer in the relay to Bloomreach, so campaigns see full profiles before
        each member's next event. Fields Bloomreach already got from the relay are skipped, and a newer value from a
        live event is never replaced by an older one. Live events keep going while it runs.
      </p>
      {props.error ? (
        <div class="notice bad" role="alert">
          {props.error}
        </div>
      ) : null}
      <div data-backfill-box {...(running ? { "data-backfill-poll": `/admin/customers/backfill/${job!.id}` } : {})}>
        {job ? <BackfillOutcome job={job} /> : null}
      </div>
      <div class="actions">
        <form method="post" action="/admin/customers/backfill" data-backfill>
          <CsrfField token={ctx.csrf} />
          <button type="submit" disabled={running}>
            Sync all to Bloomreach
          </button>
        </form>
        {running ? (
          <>
            <form method="post" action={`/admin/customers/backfill/${job!.id}/cancel`} data-backfill-cancel>
              <CsrfField token={ctx.csrf} />
              <button type="submit" class="secondary">
                Stop
              </button>
            </form>
            <a href="/admin/customers" class="button secondary">
              Refresh
            </a>
          </>
        ) : null}
      </div>
      <p class="hint">
        Very large programs can use the <a href="/admin/customers/export.csv">Bloomreach import file</a> instead (see
        the README).
      </p>
    </section>
  );
}

function EraseForm(props: { ctx: ViewContext; id: string }) {
  const { ctx, id } = props;
  return (
    <details>
      <summary>Erase this customer (GDPR)</summary>
      <form
        method="post"
        action="/admin/customers/erase"
        data-confirm={`Erase customer ${id} from the relay? This cannot be undone.`}
      >
        <CsrfField token={ctx.csrf} />
        <input type="hidden" name="id" value={id} />
        <p class="hint">
          Removes the customer's data from the relay: the mirrored profile, its stored events, what the relay remembers
          about it, and the personal data in its delivery history (the history keeps only statuses). Events of this
          customer still waiting to be sent are dropped.
        </p>
        <div class="check">
          <input id="f-anonymize" name="anonymize" type="checkbox" value="1" />
          <label for="f-anonymize">Also anonymize the customer in Bloomreach</label>
        </div>
        <div class="check">
          <input id="f-confirm" name="confirm" type="checkbox" value="1" required />
          <label for="f-confirm">I understand that this cannot be undone</label>
        </div>
        <div class="actions">
          <button type="submit" class="danger">
            Erase customer
          </button>
        </div>
      </form>
    </details>
  );
}

function ErasureResult(props: { id: string; report: ErasureReport }) {
  const { erased, bloomreach } = props.report;
  const failed = bloomreach.startsWith("failed");
  const remote =
    bloomreach === "anonymized"
      ? "Bloomreach anonymized the customer."
      : bloomreach === "skipped"
        ? "Bloomreach was not asked to anonymize the customer."
        : `Bloomreach could not anonymize the customer (${bloomreach.slice("failed: ".length)}).`;
  return (
    <div class={`notice ${failed ? "warn" : "ok"}`} role="status">
      <strong>{`Customer ${props.id} was erased from the relay.`}</strong>
      <p>{`Removed ${erased.mirror} profile(s) and ${erased.events} stored event(s); cleared ${erased.deliveries} delivery record(s). ${remote}`}</p>
    </div>
  );
}

/** `tiers.0.name` → "Gold": the snapshot as rows a person reads, nested values by their dot path. */
const MAX_SNAPSHOT_ROWS = 200;
function snapshotRows(snapshot: Record<string, unknown>): [string, string][] {
  const rows: [string, string][] = [];
  const walk = (value: unknown, path: string) => {
    if (rows.length >= MAX_SNAPSHOT_ROWS) return;
    if (value !== null && typeof value === "object") {
      const entries = Object.entries(value);
      if (entries.length === 0) rows.push([path, Array.isArray(value) ? "(empty list)" : "(empty)"]);
      for (const [key, item] of entries) walk(item, path ? `${path}.${key}` : key);
      return;
    }
    rows.push([path, typeof value === "string" ? value : JSON.stringify(value)]);
  };
  walk(snapshot, "");
  return rows;
}

function Snapshot(props: { snapshot: Record<string, unknown> }) {
  const rows = snapshotRows(props.snapshot);
  return (
    <>
      <h3>Loyalty fields</h3>
      {rows.length === 0 ? (
        <p class="hint">The snapshot has no fields.</p>
      ) : (
        <dl class="kv" data-snapshot>
          {rows.map(([path, value]) => (
            <>
              <dt class="mono">{path}</dt>
              <dd>{value === "" ? "(empty text)" : value}</dd>
            </>
          ))}
        </dl>
      )}
      {rows.length >= MAX_SNAPSHOT_ROWS ? (
        <p class="hint">{`Only the first ${MAX_SNAPSHOT_ROWS} fields are listed.`}</p>
      ) : null}
      <details>
        <summary>Snapshot as JSON</summary>
        <pre>{prettyJson(props.snapshot)}</pre>
      </details>
    </>
  );
}

/** What the delivery log says Bloomreach took for this customer: the newest value of each property. */
function ReceivedByBloomreach(props: { received: LastReceived }) {
  const { properties, events, deliveries } = props.received;
  return (
    <section class="card" aria-labelledby="received-title" data-last-received>
      <h3 id="received-title">What Bloomreach last received</h3>
      <p class="hint">
        {`From the delivery log: the commands of this customer's latest ${RECEIVED_DELIVERIES} delivered deliveries to Bloomreach. Older values (past the log's retention) and anything Bloomreach got from elsewhere are not shown.`}
      </p>
      {deliveries.length === 0 ? (
        <p>Nothing delivered to Bloomreach for this customer in the log.</p>
      ) : (
        <>
          <h4>Customer properties</h4>
          {properties.length === 0 ? (
            <p class="hint">No customer properties in these deliveries.</p>
          ) : (
            <dl class="kv">
              {properties.map((p) => (
                <>
                  <dt class="mono">{p.property}</dt>
                  <dd>
                    {typeof p.value === "string" ? p.value : JSON.stringify(p.value)}{" "}
                    <span class="hint">
                      ({p.at !== undefined ? `as of ${formatTime(p.at)}, ` : ""}
                      <a href={`/admin/deliveries/${encodeURIComponent(p.deliveryId)}`}>delivery</a>)
                    </span>
                  </dd>
                </>
              ))}
            </dl>
          )}
          <h4>Events</h4>
          {events.length === 0 ? (
            <p class="hint">No events in these deliveries.</p>
          ) : (
            <ul class="matches">
              {events.map((e) => (
                <li>
                  <a href={`/admin/deliveries/${encodeURIComponent(e.deliveryId)}`}>{e.eventType}</a>
                  {e.timestamp !== undefined ? ` at ${formatTime(e.timestamp)}` : ""}
                </li>
              ))}
            </ul>
          )}
          <details>
            <summary>The commands as sent</summary>
            <pre>{prettyJson(deliveries.map((d) => ({ delivery: d.id, action: d.action, commands: d.commands })))}</pre>
          </details>
        </>
      )}
    </section>
  );
}

function Matches(props: { matches: CustomerMatch[]; hardIdField?: string }) {
  return (
    <ul class="matches" data-matches>
      {props.matches.map((m) => (
        <li>
          <a href={`/admin/customers?id=${encodeURIComponent(m.id)}`}>{m.id}</a>
          {` — ${props.hardIdField ?? "hard ID"} ${m.hardId ?? ""}, mirrored ${formatTime(m.updatedAt)}`}
        </li>
      ))}
    </ul>
  );
}

function Lookup(props: {
  ctx: ViewContext;
  id: string;
  lookup?: CustomerLookup;
  hardIdField?: string;
  received?: LastReceived;
  deliveries?: DeliveryList["items"];
}) {
  const { ctx, id, lookup, deliveries } = props;
  if (id === "" || !lookup) return null;
  const field = props.hardIdField ?? "hard-ID value";
  if (lookup.kind === "several")
    return (
      <section class="card" aria-labelledby="customer-title">
        <h2 id="customer-title">{`Customers matching “${id}”`}</h2>
        <p>
          {lookup.more
            ? `More than ${lookup.matches.length} customers whose ${field} starts with “${id}”; the first ${lookup.matches.length}:`
            : `${lookup.matches.length} customers whose ${field} starts with “${id}”:`}
        </p>
        <Matches matches={lookup.matches} hardIdField={props.hardIdField} />
      </section>
    );
  const customer = lookup.kind === "found" ? lookup.customer : undefined;
  const shownId = customer?.id ?? id;
  return (
    <section aria-labelledby="customer-title">
      <h2 id="customer-title">{`Customer ${shownId}`}</h2>
      {customer && lookup.kind === "found" ? (
        <div class="card">
          {lookup.matchedBy === "hardId" ? <p class="hint">{`Found by its ${field}.`}</p> : null}
          <dl class="kv">
            <dt>{props.hardIdField ? `Hard ID (${props.hardIdField})` : "Hard ID"}</dt>
            <dd>
              {customer.hardId ??
                (props.hardIdField
                  ? `none: no ${props.hardIdField} value, so Bloomreach can't match this customer yet`
                  : "no hard ID is mapped yet")}
            </dd>
            <dt>Email</dt>
            <dd>{customer.email ?? "—"}</dd>
            <dt>Birthday (MM-DD)</dt>
            <dd>{customer.birthMonthDay ?? "—"}</dd>
            <dt>Mirrored</dt>
            <dd>{formatTime(customer.updatedAt)}</dd>
          </dl>
          <Snapshot snapshot={customer.snapshot} />
          {lookup.others.length > 0 ? (
            <details>
              <summary>{`${lookup.others.length} other customer(s) whose ${field} starts with “${id}”`}</summary>
              <Matches matches={lookup.others} hardIdField={props.hardIdField} />
            </details>
          ) : null}
        </div>
      ) : (
        <div class="empty">
          <p>{`No customer “${id}” in the mirror. Customers appear after their first event or an import.`}</p>
        </div>
      )}
      {props.received ? <ReceivedByBloomreach received={props.received} /> : null}
      <h3>Recent deliveries</h3>
      {deliveries && deliveries.length > 0 ? (
        <>
          <DeliveryTable items={deliveries} showCustomer={false} />
          <p>
            <a href={`/admin/deliveries?customer=${encodeURIComponent(shownId)}`}>All deliveries for this customer</a>
          </p>
        </>
      ) : (
        <p class="hint">No deliveries for this customer.</p>
      )}
      {customer || (deliveries && deliveries.length > 0) ? <EraseForm ctx={ctx} id={shownId} /> : null}
    </section>
  );
}

export function CustomersPage(props: {
  ctx: ViewContext;
  /** The search as typed: an Antavo id or (the start of) a hard-ID value. */
  id: string;
  lookup?: CustomerLookup;
  /** The mapped hard-ID field (e.g. email), to name it on the page. */
  hardIdField?: string;
  received?: LastReceived;
  deliveries?: DeliveryList["items"];
  importState: FormState;
  summary?: ImportSummary;
  backfill?: BackfillProgress;
  backfillError?: string;
  erasure?: { id: string; report: ErasureReport };
  erasureError?: string;
}) {
  const { ctx } = props;
  const fileErrors = issueAt(props.importState.issues, "file");
  return (
    <Page
      ctx={ctx}
      title="Customers"
      lead="The relay's mirror of Antavo customers: what date workflows and filters read."
    >
      <form method="get" action="/admin/customers" class="card" role="search" aria-label="Look up a customer">
        <div class="filters single">
          <Field
            path="id"
            label={`Antavo customer ID or ${props.hardIdField ?? "hard-ID value"}`}
            type="search"
            state={{ values: { id: props.id }, issues: [] }}
            hint={`The whole ID, or the start of the ${props.hardIdField ?? "hard-ID value"} (upper or lower case alike).`}
          />
          <div class="actions">
            <button type="submit">Look up</button>
          </div>
        </div>
      </form>
      {props.erasureError ? (
        <div class="notice bad" role="alert">
          {props.erasureError}
        </div>
      ) : null}
      {props.erasure ? <ErasureResult id={props.erasure.id} report={props.erasure.report} /> : null}
      <Lookup
        ctx={ctx}
        id={props.id}
        lookup={props.lookup}
        hardIdField={props.hardIdField}
        received={props.received}
        deliveries={props.deliveries}
      />
      <BackfillSection ctx={ctx} job={props.backfill} error={props.backfillError} />
      <section class="card" aria-labelledby="import-title">
        <h2 id="import-title">Import customers</h2>
        <p class="hint">
          An Antavo customer export as CSV (a header row of field names such as id, email, birth_date, score,
          tiers.0.name) or NDJSON (one customer object per line). Rows replace the mirrored customer; bad rows are
          listed and skipped.
        </p>
        <ErrorSummary state={props.importState} />
        {props.summary ? <ImportResult summary={props.summary} /> : null}
        <form method="post" action="/admin/customers/import" enctype="multipart/form-data" novalidate data-import>
          <CsrfField token={ctx.csrf} />
          <div class="field">
            <label for="f-file">File</label>
            <input
              id="f-file"
              name="file"
              type="file"
              accept=".csv,.ndjson,.jsonl,.json,text/csv,application/x-ndjson"
              required
              aria-invalid={fileErrors.length > 0 ? "true" : undefined}
              aria-describedby={fileErrors.length > 0 ? "f-file-error" : undefined}
            />
            <FieldError path="file" messages={fileErrors} />
          </div>
          <div class="field">
            <label for="f-format">Format</label>
            <select id="f-format" name="format">
              <option value="auto">from the file name (.csv or .ndjson)</option>
              <option value="csv">CSV</option>
              <option value="ndjson">NDJSON</option>
            </select>
          </div>
          <div data-progress-box hidden>
            <label for="import-progress">Import progress</label>
            <progress id="import-progress" max="1" value="0" data-progress />
            <p aria-live="polite" data-progress-text />
          </div>
          <div data-import-output />
          <button type="submit">Import</button>
        </form>
      </section>
    </Page>
  );
}
