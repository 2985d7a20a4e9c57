/**
 * The delivery log: a search (event id, customer, action, Bloomreach event, status, direction,
 * window; on a phone all but the event id fold behind "More filters") over the list, with what it
 * found said above the form, and the replays. Replaying a window runs page by page (the service answers
 * {replayed, remaining}); the page script loops with a <progress> and then reloads the list, and
 * without it each click does one page and answers the list as it is now. One delivery's page is
 * delivery-detail.tsx.
 */
import { DELIVERY_STATUSES } from "../../db/delivery-queries";
import type { listDeliveries } from "../../services/deliveries";
import { CsrfField, ErrorSummary, Field, type FormState, Select, valueAt } from "../form";
import { formatTime, plural } from "../format";
import { Page, type ViewContext } from "../layout";
import { StatusBadge } from "./delivery-detail";

export { type DeliveryDetail, DeliveryPage, StatusBadge } from "./delivery-detail";

export type DeliveryList = Awaited<ReturnType<typeof listDeliveries>>;
export interface DeliveryFilter {
  /** Exact; the first field, as support usually starts from an event id. */
  eventId: string;
  status: string;
  /** "" (both), to_bloomreach or to_antavo. */
  direction: string;
  customer: string;
  /** The Antavo action, exactly. */
  action: string;
  /** A Bloomreach event name one of the delivery's commands sends, exactly. */
  remoteEvent: string;
  since: string;
  until: string;
}

/**
 * The first cell's link is the row's way in; its ::after covers the row (styles.ts `tr.linked`),
 * so the whole row is a hit area without JS, while the other links stay above it.
 */
export function DeliveryTable(props: { items: DeliveryList["items"]; showCustomer?: boolean }) {
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Event</th>
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
            <tr class="linked">
              <td class="mono" data-label="Event">
                <a class="row-link" href={`/admin/deliveries/${encodeURIComponent(d.id)}`}>
                  {d.eventId}
                </a>
              </td>
              <td class="nowrap" data-label="Created">
                {formatTime(d.createdAt)}
              </td>
              <td data-label="Status">
                <StatusBadge status={d.status} />
                {d.replayQueued ? <span class="hint"> queued for replay</span> : null}
                {d.status === "retrying" && d.nextAttemptAt && !d.replayQueued ? (
                  <span class="hint">{` next ${formatTime(d.nextAttemptAt)}`}</span>
                ) : null}
              </td>
              <td data-label="Action">
                {d.actionLabel ?? d.action}
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

function ReplayWindow(props: {
  ctx: ViewContext;
  state: FormState;
  progress?: { done: number; remaining: number };
  /** The list's search, so the page answered after a replay lists what the admin was looking at. */
  listQuery: string;
}) {
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
      <form
        method="post"
        action={`/admin/deliveries/replay${props.listQuery ? `?${props.listQuery}` : ""}`}
        novalidate
        data-replay
      >
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
                : `Done: ${plural(progress.done, "delivery", "deliveries")} queued for replay; the list above shows them as they are now (reload it to follow them).`
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

/** The list under the search; also answered alone to the replay script (`x-ui-fragment`). */
export function DeliveryListPart(props: { list: DeliveryList; filtered: boolean; nextHref?: string | undefined }) {
  return (
    <>
      {props.list.items.length === 0 ? (
        <div class="empty">
          <p>
            {props.filtered
              ? "No deliveries match these filters."
              : "No deliveries yet. They appear here as soon as Antavo posts an event to /webhooks/antavo."}
          </p>
        </div>
      ) : (
        <DeliveryTable items={props.list.items} />
      )}
      {props.nextHref ? (
        <p>
          <a href={props.nextHref} class="button secondary">
            Older deliveries
          </a>
        </p>
      ) : null}
    </>
  );
}

/** The filters folded behind "More filters" on a phone: every one but the event id. */
const MORE_FILTERS = ["status", "direction", "customer", "action", "remoteEvent", "since", "until"] as const;

/** The search in words: `event id “evt-1”, status dead`. */
function describeFilter(filter: DeliveryFilter): string {
  const parts: string[] = [];
  if (filter.eventId) parts.push(`event id “${filter.eventId}”`);
  if (filter.customer) parts.push(`customer “${filter.customer}”`);
  if (filter.action) parts.push(`Antavo action “${filter.action}”`);
  if (filter.remoteEvent) parts.push(`Bloomreach event “${filter.remoteEvent}”`);
  if (filter.status) parts.push(`status ${filter.status}`);
  if (filter.direction) parts.push(filter.direction === "to_antavo" ? "Bloomreach to Antavo" : "Antavo to Bloomreach");
  if (filter.since) parts.push(`created from ${filter.since} UTC`);
  if (filter.until) parts.push(`until ${filter.until} UTC`);
  return parts.join(", ");
}

/**
 * What the search found, above the form: on a phone the results start below the whole form, so
 * the answer is said first, with a link down to them.
 */
function MatchSummary(props: { filter: DeliveryFilter; count: number; more: boolean }) {
  const { count, more } = props;
  const found =
    count === 0
      ? "No delivery found"
      : `${plural(count, "delivery", "deliveries")}${more ? " (and more on the next pages)" : ""} found`;
  return (
    <p class="notice info" role="status" data-match-summary>
      {`${found} for ${describeFilter(props.filter)}. `}
      {count > 0 ? <a href="#results">{count === 1 ? "Go to the result" : "Go to the results"}</a> : null}
    </p>
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
  const moreSet = MORE_FILTERS.filter((key) => filter[key] !== "").length;
  const listQuery = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== "")).toString();
  return (
    <Page
      ctx={ctx}
      title="Deliveries"
      lead="Every accepted event and what became of it: Antavo events sent to Bloomreach, and Bloomreach events sent to Antavo. Newest first."
    >
      {filtered && props.filterState.issues.length === 0 ? (
        <MatchSummary filter={filter} count={list.items.length} more={props.nextHref !== undefined} />
      ) : null}
      <form method="get" action="/admin/deliveries" class="card" role="search" aria-label="Search deliveries">
        <ErrorSummary state={props.filterState} />
        <div class="filters">
          <Field path="eventId" label="Event ID" type="search" state={props.filterState} />
          {/* Folded on a phone (open while one of them is set); from 640 px, styles.ts lays them out in the grid. */}
          <details class="more-filters" open={moreSet > 0}>
            <summary>{moreSet > 0 ? `More filters (${moreSet} set)` : "More filters"}</summary>
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
            <Field path="action" label="Antavo action" type="search" state={props.filterState} />
            <Field path="remoteEvent" label="Bloomreach event" type="search" state={props.filterState} />
            <Field path="since" label="From (UTC)" type="datetime-local" state={props.filterState} />
            <Field path="until" label="Until (UTC)" type="datetime-local" state={props.filterState} />
          </details>
          <div class="actions">
            <button type="submit">Search</button>
            {filtered ? <a href="/admin/deliveries">Clear</a> : null}
          </div>
        </div>
      </form>
      {/* The replay script swaps this part for a fresh copy once it is done. */}
      <div data-delivery-list id="results">
        <DeliveryListPart list={list} filtered={filtered} nextHref={props.nextHref} />
      </div>
      <ReplayWindow ctx={ctx} state={props.replay.state} progress={props.replay.progress} listQuery={listQuery} />
    </Page>
  );
}
