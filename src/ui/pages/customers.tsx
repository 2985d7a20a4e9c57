/**
 * Customers: look up one customer in the D1 mirror (what date workflows and filters see) with its
 * recent deliveries, and import an Antavo export. The page script sends a large file in slices
 * (each within the import's per-request row limit) and fills a <progress>; without it the file
 * goes in one request and the summary says where to continue if it was cut.
 */

import type { readCustomer } from "../../db/customer-queries";
import type { ImportSummary } from "../../services/customer-import";
import { CsrfField, ErrorSummary, Field, FieldError, type FormState, issueAt } from "../form";
import { formatTime, prettyJson } from "../format";
import { Page, type ViewContext } from "../layout";
import { type DeliveryList, DeliveryTable } from "./deliveries";

export type MirroredCustomer = NonNullable<Awaited<ReturnType<typeof readCustomer>>>;

export function ImportResult(props: { summary: ImportSummary }) {
  const { summary } = props;
  return (
    <div class={`notice ${summary.rejectedCount > 0 || summary.truncated ? "warn" : "ok"}`} role="status">
      <strong>{`Read ${summary.total} row(s): ${summary.imported} new, ${summary.updated} updated, ${summary.rejectedCount} rejected.`}</strong>
      {summary.truncated ? <p>{summary.truncated.message}</p> : null}
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

function Lookup(props: { id: string; customer?: MirroredCustomer; deliveries?: DeliveryList["items"] }) {
  const { id, customer, deliveries } = props;
  if (id === "") return null;
  return (
    <section aria-labelledby="customer-title">
      <h2 id="customer-title">{`Customer ${id}`}</h2>
      {customer ? (
        <div class="card">
          <dl class="kv">
            <dt>Email</dt>
            <dd>{customer.email ?? "—"}</dd>
            <dt>Birthday (MM-DD)</dt>
            <dd>{customer.birthMonthDay ?? "—"}</dd>
            <dt>Mirrored</dt>
            <dd>{formatTime(customer.updatedAt)}</dd>
          </dl>
          <details open>
            <summary>Snapshot (loyalty fields)</summary>
            <pre>{prettyJson(customer.snapshot)}</pre>
          </details>
        </div>
      ) : (
        <div class="empty">
          <p>{`No customer “${id}” in the mirror. Customers appear after their first event or an import.`}</p>
        </div>
      )}
      <h3>Recent deliveries</h3>
      {deliveries && deliveries.length > 0 ? (
        <>
          <DeliveryTable items={deliveries} showCustomer={false} />
          <p>
            <a href={`/admin/deliveries?customer=${encodeURIComponent(id)}`}>All deliveries for this customer</a>
          </p>
        </>
      ) : (
        <p class="hint">No deliveries for this customer.</p>
      )}
    </section>
  );
}

export function CustomersPage(props: {
  ctx: ViewContext;
  id: string;
  customer?: MirroredCustomer;
  deliveries?: DeliveryList["items"];
  importState: FormState;
  summary?: ImportSummary;
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
          <Field path="id" label="Antavo customer ID" type="search" state={{ values: { id: props.id }, issues: [] }} />
          <div class="actions">
            <button type="submit">Look up</button>
          </div>
        </div>
      </form>
      <Lookup id={props.id} customer={props.customer} deliveries={props.deliveries} />
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
