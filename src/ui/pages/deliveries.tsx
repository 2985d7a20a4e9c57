/**
 * The delivery log: a filtered list, one delivery with every attempt (request sent, answer got),
 * and the replays. Replaying a window runs page by page (the service answers {replayed,
 * remaining}); the page script loops with a <progress>, and without it each click does one page.
 */
import { DELIVERY_STATUSES } from "../../db/delivery-queries";
import type { getDelivery, listDeliveries } from "../../services/deliveries";
import { CsrfField, ErrorSummary, Field, type FormState, Select, valueAt } from "../form";
import { expandJsonStrings, formatTime, plural, prettyJson } from "../format";
import { Page, type ViewContext } from "../layout";

export type DeliveryList = Awaited<ReturnType<typeof listDeliveries>>;
export type DeliveryDetail = Awaited<ReturnType<typeof getDelivery>>;

export interface DeliveryFilter {
  status: string;
  /** "" (both), to_bloomreach or to_antavo. */
  direction: string;
  customer: string;
  since: string;
  until: string;
}

/** Attempt outcomes are the delivery-outcome words plus the Antavo client's; colour the known ones. */
const OUTCOME_CLASS: Record<string, string> = {
  delivered: "delivered",
  ok: "delivered",
  claimed: "delivered",
  retry: "retrying",
  paused: "paused",
  dead: "dead",
  outcome_unknown: "dead",
};

export function StatusBadge(props: { status: string }) {
  return <span class={`badge ${props.status}`}>{props.status}</span>;
}

export function DeliveryTable(props: { items: DeliveryList["items"]; showCustomer?: boolean }) {
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Created</th>
            <th scope="col">Status</th>
            <th scope="col">Action</th>
            {props.showCustomer !== false ? <th scope="col">Customer</th> : null}
            <th scope="col">Attempts</th>
            <th scope="col">Last error</th>
          </tr>
        </thead>
        <tbody>
          {props.items.map((d) => (
            <tr>
              <td class="nowrap" data-label="Created">
                <a href={`/admin/deliveries/${encodeURIComponent(d.id)}`}>{formatTime(d.createdAt)}</a>
              </td>
              <td data-label="Status">
                <StatusBadge status={d.status} />
              </td>
              <td data-label="Action">
                {d.action}
                {d.direction === "to_antavo" ? <span class="badge muted">from Bloomreach to Antavo</span> : null}
              </td>
              {props.showCustomer !== false ? (
                <td class="mono" data-label="Customer">
                  <a href={`/admin/customers?id=${encodeURIComponent(d.customerId)}`}>{d.customerId}</a>
                </td>
              ) : null}
              <td data-label="Attempts">{d.attempts}</td>
              <td data-label="Last error">{d.lastError ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ReplayWindow(props: { ctx: ViewContext; state: FormState; progress?: { done: number; remaining: number } }) {
  const { progress } = props;
  const total = progress ? progress.done + progress.remaining : 0;
  const confirming = valueAt(props.state.values, "confirmAll") === "yes";
  return (
    <section class="card" aria-labelledby="replay-title">
      <h2 id="replay-title">Replay dead deliveries</h2>
      <p class="hint">
        Sends every dead delivery created in the window (UTC; blank = no limit) back through the pipeline, a page at a
        time.
      </p>
      {confirming ? (
        <p class="notice warn" role="alert">
          {props.state.message}
        </p>
      ) : (
        <ErrorSummary state={props.state} scope="replay" />
      )}
      <form method="post" action="/admin/deliveries/replay" novalidate data-replay>
        <CsrfField token={props.ctx.csrf} />
        <input type="hidden" name="done" value={String(progress?.done ?? 0)} />
        <input type="hidden" name="direction" value={String(valueAt(props.state.values, "direction") ?? "")} />
        {confirming ? <input type="hidden" name="confirmAll" value="yes" /> : null}
        <div class="grid two">
          {/* Scoped ids: the filter form above has inputs with the same names. */}
          <Field scope="replay" path="since" label="Created from (UTC)" type="datetime-local" state={props.state} />
          <Field scope="replay" path="until" label="Created until (UTC)" type="datetime-local" state={props.state} />
        </div>
        <div data-progress-box hidden={!progress}>
          <label for="replay-progress">Replay progress</label>
          <progress
            id="replay-progress"
            max={String(Math.max(total, 1))}
            value={String(progress?.done ?? 0)}
            data-progress
          />
          <p aria-live="polite" data-progress-text>
            {progress
              ? progress.remaining > 0
                ? `${progress.done} replayed, ${progress.remaining} still dead in the window.`
                : `Done: ${plural(progress.done, "delivery", "deliveries")} queued for replay; the list below shows them as they are delivered.`
              : ""}
          </p>
        </div>
        <div class="actions">
          <button type="submit" class="secondary">
            {progress && progress.remaining > 0
              ? "Replay the next page"
              : confirming
                ? "Yes, replay every dead delivery"
                : "Replay dead deliveries"}
          </button>
        </div>
      </form>
    </section>
  );
}

export function DeliveriesPage(props: {
  ctx: ViewContext;
  filter: DeliveryFilter;
  filterState: FormState;
  list: DeliveryList;
  nextHref?: string;
  replay: { state: FormState; progress?: { done: number; remaining: number } };
}) {
  const { ctx, filter, list } = props;
  const filtered = Object.values(filter).some((v) => v !== "");
  return (
    <Page
      ctx={ctx}
      title="Deliveries"
      lead="Every accepted event and what became of it: Antavo events sent to Bloomreach, and Bloomreach events sent to Antavo. Newest first."
    >
      <form method="get" action="/admin/deliveries" class="card" role="search" aria-label="Filter deliveries">
        <ErrorSummary state={props.filterState} />
        <div class="filters">
          <Select
            path="status"
            label="Status"
            options={[["", "any"], ...DELIVERY_STATUSES.map((s): [string, string] => [s, s])]}
            state={props.filterState}
          />
          <Select
            path="direction"
            label="Direction"
            options={[
              ["", "both"],
              ["to_bloomreach", "Antavo to Bloomreach"],
              ["to_antavo", "Bloomreach to Antavo"],
            ]}
            state={props.filterState}
          />
          <Field path="customer" label="Customer ID" type="search" state={props.filterState} />
          <Field path="since" label="From (UTC)" type="datetime-local" state={props.filterState} />
          <Field path="until" label="Until (UTC)" type="datetime-local" state={props.filterState} />
          <div class="actions">
            <button type="submit">Filter</button>
            {filtered ? <a href="/admin/deliveries">Clear</a> : null}
          </div>
        </div>
      </form>
      {list.items.length === 0 ? (
        <div class="empty">
          <p>
            {filtered
              ? "No deliveries match these filters."
              : "No deliveries yet. They appear here as soon as Antavo posts an event to /webhooks/antavo."}
          </p>
        </div>
      ) : (
        <DeliveryTable items={list.items} />
      )}
      {props.nextHref ? (
        <p>
          <a href={props.nextHref} class="button secondary">
            Older deliveries
          </a>
        </p>
      ) : null}
      <ReplayWindow ctx={ctx} state={props.replay.state} progress={props.replay.progress} />
    </Page>
  );
}

export function DeliveryPage(props: { ctx: ViewContext; delivery: DeliveryDetail; error?: string }) {
  const { ctx, delivery } = props;
  const d = delivery as DeliveryDetail & {
    lastError?: string | null;
    createdAt?: number;
    updatedAt?: number;
    nextAttemptAt?: number | null;
  };
  return (
    <Page ctx={ctx} title={`Delivery ${delivery.id}`}>
      {props.error ? (
        <div class="notice bad" role="alert">
          {props.error}
        </div>
      ) : null}
      <div class="card">
        <dl class="kv">
          <dt>Status</dt>
          <dd>
            <StatusBadge status={delivery.status} />
          </dd>
          <dt>Direction</dt>
          <dd>{delivery.direction === "to_antavo" ? "Bloomreach to Antavo" : "Antavo to Bloomreach"}</dd>
          <dt>Action</dt>
          <dd>{delivery.action}</dd>
          <dt>Customer</dt>
          <dd class="mono">
            <a href={`/admin/customers?id=${encodeURIComponent(delivery.customerId)}`}>{delivery.customerId}</a>
          </dd>
          <dt>Attempts</dt>
          <dd>{delivery.attempts}</dd>
          {d.createdAt !== undefined ? (
            <>
              <dt>Created</dt>
              <dd>{formatTime(d.createdAt)}</dd>
              <dt>Updated</dt>
              <dd>{formatTime(d.updatedAt)}</dd>
            </>
          ) : null}
          {d.nextAttemptAt ? (
            <>
              <dt>Next attempt</dt>
              <dd>{formatTime(d.nextAttemptAt)}</dd>
            </>
          ) : null}
          {d.lastError ? (
            <>
              <dt>Last error</dt>
              <dd>{d.lastError}</dd>
            </>
          ) : null}
        </dl>
        {delivery.status === "outcome_unknown" ? (
          <p class="hint">
            Bloomreach answered, but its answer did not say whether it applied these commands. The relay does not resend
            events on its own (that could track them twice); replay it if you know it did not arrive.
          </p>
        ) : null}
        {delivery.status === "dead" || delivery.status === "outcome_unknown" ? (
          <form method="post" action={`/admin/deliveries/${encodeURIComponent(delivery.id)}/replay`} class="actions">
            <CsrfField token={ctx.csrf} />
            <button type="submit">Replay this delivery</button>
          </form>
        ) : null}
      </div>
      {delivery.warnings.length > 0 ? (
        <div class="notice warn" id="delivery-warnings">
          <strong>{`Warnings from planning (${delivery.warnings.length})`}</strong>
          <ul>
            {delivery.warnings.map((warning) => (
              <li>{warning}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <h2>{`Attempts (${delivery.attemptLog.length})`}</h2>
      {delivery.attemptLog.length === 0 ? (
        <div class="empty">
          <p>No attempts yet{delivery.status === "pending" ? ": the event is waiting in the queue." : "."}</p>
        </div>
      ) : (
        <ol class="rows">
          {delivery.attemptLog.map((a) => (
            <li class="card">
              <p>
                <strong>{`Attempt ${a.attempt}`}</strong> to {a.target}:{" "}
                <span class={`badge ${OUTCOME_CLASS[a.outcome] ?? "muted"}`}>{a.outcome}</span>
                {a.httpStatus ? ` · HTTP ${a.httpStatus}` : ""}
                {a.durationMs === null ? "" : ` · ${a.durationMs} ms`} · {formatTime(a.startedAt)}
              </p>
              {a.error ? <p class="error">{a.error}</p> : null}
              {a.request ? (
                <details>
                  <summary>Request sent</summary>
                  <pre>{prettyJson(a.request)}</pre>
                </details>
              ) : null}
              {a.response ? (
                <details>
                  <summary>Answer</summary>
                  <pre>{prettyJson(expandJsonStrings(a.response))}</pre>
                </details>
              ) : null}
            </li>
          ))}
        </ol>
      )}
      <h2>Bloomreach commands</h2>
      {delivery.commands.length === 0 ? (
        <p class="hint">None planned (yet).</p>
      ) : (
        <pre>{prettyJson(delivery.commands)}</pre>
      )}
      <h2>Event as received</h2>
      {delivery.event ? (
        <pre>{prettyJson(delivery.event)}</pre>
      ) : (
        <p class="hint">No longer stored (past the retention).</p>
      )}
      <p>
        <a href="/admin/deliveries">All deliveries</a>
      </p>
    </Page>
  );
}
