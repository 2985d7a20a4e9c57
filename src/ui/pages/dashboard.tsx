/** The dashboard: is the relay connected, what is waiting, what failed, and the last day at a glance. */

import type { HourBucket, RecentFailure, StatusCounts } from "../../db/dashboard-queries";
import { BACKLOG_COUNT_CAP } from "../../db/settlement-queries";
import type { Mapping, Settings } from "../../domain/config";
import { SETTLEMENTS_PER_SWEEP } from "../../services/settlement-sweep";
import { HourlyChart } from "../chart";
import { formatTime } from "../format";
import { Page, type ViewContext } from "../layout";
import { type BloomreachConnectionView, DeliveryState } from "./connection";

export interface DashboardData {
  counts: StatusCounts;
  /** The other direction's share of `counts` (Bloomreach's webhook to Antavo). */
  inbound?: StatusCounts;
  hourly: HourBucket[];
  connection: BloomreachConnectionView;
  antavoConfigured: boolean;
  mapping: Mapping;
  settings: Settings;
  activeWorkflows?: number;
  /** The latest dead and outcome-unknown deliveries, newest first. */
  failures?: RecentFailure[];
  /** Vendor answers still waiting for their customers' objects past the cron's time (none: absent). */
  settlementBacklog?: { count: number; oldestAt?: number };
}

/** Enough of the reason to recognise it; the delivery's page has all of it. */
const REASON_CHARS = 140;
function shortReason(reason: string | null): string {
  if (!reason) return "no reason recorded";
  const oneLine = reason.replace(/\s+/g, " ").trim();
  return oneLine.length > REASON_CHARS ? `${oneLine.slice(0, REASON_CHARS - 1)}…` : oneLine;
}

function RecentFailures(props: { failures: RecentFailure[] }) {
  const { failures } = props;
  return (
    <section class="card" aria-labelledby="failures-title" data-recent-failures>
      <h2 id="failures-title">Recent failures</h2>
      {failures.length === 0 ? (
        <p class="hint">No dead deliveries. Events that Bloomreach or Antavo refuse show up here.</p>
      ) : (
        <>
          <ul class="failures">
            {failures.map((f) => (
              <li>
                <a href={`/admin/deliveries/${encodeURIComponent(f.id)}`}>{formatTime(f.createdAt)}</a>{" "}
                <span class={`badge ${f.status === "outcome_unknown" ? "dead" : f.status}`}>
                  {f.status === "outcome_unknown" ? "unknown outcome" : f.status}
                </span>
                <span class="meta">
                  {f.action}
                  {f.direction === "to_antavo" ? " (to Antavo)" : ""} · customer{" "}
                  <span class="mono">{f.customerId}</span>
                </span>
                <span class="reason">{shortReason(f.lastError)}</span>
              </li>
            ))}
          </ul>
          <p>
            <a href="/admin/deliveries?status=dead">All dead deliveries</a> (replay them from there)
          </p>
        </>
      )}
    </section>
  );
}

/** A count, linking to the list it counts; a sum of other cards (no one list shows it) is plain. */
function Stat(props: { n: number; label: string; href?: string; status: string }) {
  const body = (
    <>
      <span class="n">{props.n}</span>
      <span class="l">
        <span class={`badge ${props.status}`}>{props.label}</span>
      </span>
    </>
  );
  return props.href ? (
    <a class="stat" href={props.href}>
      {body}
    </a>
  ) : (
    <div class="stat">{body}</div>
  );
}

/** Answers the minute cron has not yet recorded in the customers' objects: a cron behind or not running. */
function SettlementBacklog(props: { count: number; oldestAt?: number }) {
  return (
    <p data-settlement-backlog>
      <span class="badge warn">behind</span>{" "}
      {props.count > BACKLOG_COUNT_CAP ? `More than ${BACKLOG_COUNT_CAP.toLocaleString("en-US")}` : props.count}{" "}
      Bloomreach answer(s) wait to be recorded in their customers' objects
      {props.oldestAt !== undefined ? `, the oldest since ${formatTime(props.oldestAt)}` : ""}. The minute cron records
      them (up to {SETTLEMENTS_PER_SWEEP.toLocaleString("en-US")} a minute): check that the cron trigger runs, and the
      logs for "the customer's object could not record the outcome". Nothing is lost or sent twice meanwhile: a
      customer's next event carries its answers.
    </p>
  );
}

function Step(props: { done: boolean; href: string; children: string }) {
  return (
    <li>
      <span class={`badge ${props.done ? "ok" : "warn"}`}>{props.done ? "done" : "to do"}</span>{" "}
      <a href={props.href}>{props.children}</a>
    </li>
  );
}

export function DashboardPage(props: { ctx: ViewContext; data: DashboardData }) {
  const { counts, connection } = props.data;
  const inQueue = counts.pending + counts.retrying;
  const setupDone = connection.configured && props.data.mapping.hardId !== null;
  return (
    <Page ctx={props.ctx} title="Dashboard">
      <section class="card" aria-labelledby="conn-title">
        <h2 id="conn-title">Bloomreach delivery</h2>
        <p>
          <DeliveryState connection={connection} />
        </p>
        {connection.configured && connection.deliveryState === "paused" ? (
          <p>
            Events are kept, not lost: fix the credentials on <a href="/admin/connection">Connect Bloomreach</a> (or run
            its test) and the parked events are sent again.
          </p>
        ) : null}
        <p class="hint">
          {inQueue} event(s) waiting in the queue ({counts.pending} not yet processed, {counts.retrying} retrying).
        </p>
        {props.data.settlementBacklog ? <SettlementBacklog {...props.data.settlementBacklog} /> : null}
      </section>
      <h2>Deliveries</h2>
      <div class="stats">
        <Stat n={counts.pending} label="pending" status="pending" href="/admin/deliveries?status=pending" />
        <Stat n={counts.retrying} label="retrying" status="retrying" href="/admin/deliveries?status=retrying" />
        <Stat n={counts.delivered} label="delivered" status="delivered" href="/admin/deliveries?status=delivered" />
        <Stat n={counts.dead} label="dead" status="dead" href="/admin/deliveries?status=dead" />
        <Stat n={counts.paused} label="paused" status="paused" href="/admin/deliveries?status=paused" />
        <Stat n={inQueue} label="in queue (pending + retrying)" status="muted" />
      </div>
      {props.data.inbound ? (
        <>
          <h3>Of them, from Bloomreach to Antavo</h3>
          <div class="stats">
            {(["pending", "retrying", "delivered", "dead", "outcome_unknown"] as const).map((status) => (
              <Stat
                n={props.data.inbound![status]}
                label={status === "outcome_unknown" ? "unknown outcome" : status}
                status={status === "outcome_unknown" ? "dead" : status}
                href={`/admin/deliveries?direction=to_antavo&status=${status}`}
              />
            ))}
          </div>
        </>
      ) : null}
      {props.data.failures ? <RecentFailures failures={props.data.failures} /> : null}
      <HourlyChart buckets={props.data.hourly} />
      <section class="card" aria-labelledby="setup-title">
        <h2 id="setup-title">{setupDone ? "Setup" : "Finish the setup"}</h2>
        <ul class="checks">
          <Step done={connection.configured} href="/admin/connection">
            Connect Bloomreach
          </Step>
          <Step done={props.data.mapping.hardId !== null} href="/admin/mapping">
            {props.data.mapping.hardId
              ? `Hard ID: ${props.data.mapping.hardId.loyaltyField} → ${props.data.mapping.hardId.remoteId}; ${props.data.mapping.fields.length} field(s) synced`
              : "Choose the hard ID and the synced fields"}
          </Step>
          <Step done={props.data.settings.events.length > 0} href="/admin/settings">
            {`${props.data.settings.events.length} event type(s) synced; ${props.data.settings.asyncSync ? "asynchronous" : "synchronous"} delivery`}
          </Step>
          {props.data.activeWorkflows !== undefined ? (
            <Step done={props.data.activeWorkflows > 0} href="/admin/workflows">
              {`${props.data.activeWorkflows} active workflow(s)`}
            </Step>
          ) : null}
          <Step done={props.data.antavoConfigured} href="/admin/antavo">
            {props.data.antavoConfigured
              ? "Antavo API connected"
              : "Antavo API (optional: for enrichment and reward claims)"}
          </Step>
        </ul>
      </section>
    </Page>
  );
}
