/**
 * One delivery: its state, every attempt (the calls to its destination, numbered over the whole log,
 * replays marked; the customer lookup and reward claims in Antavo beside them, unnumbered), what each
 * command became, and the vendor's own answer beside the relay's reading of it. A retry usually
 * sends what the attempt before it sent, so a request is shown once and later attempts refer to it:
 * a delivery retried four times stays a page, not five copies of the same commands.
 */
import { commandLabel, type RelayCommand } from "../../domain/commands";
import { isRecord } from "../../lib/http-exchange";
import type { getDelivery } from "../../services/deliveries";
import { CsrfField } from "../form";
import { expandJsonStrings, formatTime, prettyJson } from "../format";
import { Page, type ViewContext } from "../layout";

export type DeliveryDetail = Awaited<ReturnType<typeof getDelivery>>;
type Attempt = DeliveryDetail["attemptLog"][number];

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

const COMMAND_NAMES: ReadonlySet<unknown> = new Set(["customers", "customers/events", "antavo/events"]);

/** A stored command in a few words (domain `commandLabel`); an erased one has only its place. */
function storedCommandLabel(command: unknown): string {
  return isRecord(command) && COMMAND_NAMES.has(command.name) && isRecord(command.data)
    ? commandLabel(command as unknown as RelayCommand)
    : "command";
}

interface CommandFate {
  status: string;
  error?: string;
}

/** The relay's reading of the call, one result per command of the request, when the answer has it. */
function resultsOf(attempt: Attempt): CommandFate[] {
  const results = isRecord(attempt.response) ? attempt.response.results : undefined;
  if (!Array.isArray(results)) return [];
  return results.map((r) =>
    isRecord(r) && typeof r.status === "string"
      ? { status: r.status, ...(typeof r.error === "string" ? { error: r.error } : {}) }
      : { status: "unknown" },
  );
}

const requestList = (attempt: Attempt): unknown[] => (Array.isArray(attempt.request) ? attempt.request : []);

function fateWords(fate: CommandFate, target: string): string {
  if (fate.status === "dead") return `refused by ${target === "antavo" ? "Antavo" : "Bloomreach"}`;
  if (fate.status === "retry") return "to be retried";
  if (fate.status === "outcome_unknown") return "outcome unknown";
  return fate.status;
}

function FateBadge(props: { fate: CommandFate; target: string }) {
  return (
    <span class={`badge ${OUTCOME_CLASS[props.fate.status] ?? "muted"}`}>{fateWords(props.fate, props.target)}</span>
  );
}

/** What each command of one call became: the refused one stands out with the vendor's reason. */
function CommandResults(props: { attempt: Attempt }) {
  const request = requestList(props.attempt);
  const results = resultsOf(props.attempt);
  if (request.length === 0 || results.length === 0) return null;
  return (
    <ol class="command-results">
      {request.map((command, i) => {
        const fate = results[i] ?? { status: "unknown" };
        return (
          <li class={fate.status === "dead" ? "refused" : undefined}>
            <span class="mono">{storedCommandLabel(command)}</span>{" "}
            <FateBadge fate={fate} target={props.attempt.target} />
            {fate.error && fate.status !== "delivered" ? <span class="error-text"> {fate.error}</span> : null}
          </li>
        );
      })}
    </ol>
  );
}

/** The vendor's own answer (its words, this event's part of a batch) beside how the relay read it. */
function AnswerBlock(props: { attempt: Attempt }) {
  const { response } = props.attempt;
  if (!response) return null;
  if (!isRecord(response) || typeof response.body !== "string")
    return (
      <details>
        <summary>Answer</summary>
        <pre>{prettyJson(expandJsonStrings(response))}</pre>
      </details>
    );
  const { body, ...reading } = response;
  const batch = typeof response.batchSize === "number" && response.batchSize > 1 ? response.batchSize : undefined;
  return (
    <details>
      <summary>Answer</summary>
      <p class="hint">
        {`What ${props.attempt.target === "antavo" ? "Antavo" : "Bloomreach"} answered${
          response.httpStatus ? ` (HTTP ${response.httpStatus})` : ""
        }${batch ? `; the call carried ${batch} commands, these are this delivery's results` : ""}:`}
      </p>
      <pre>{prettyJson(body)}</pre>
      <p class="hint">How the relay read it:</p>
      <pre>{prettyJson(reading)}</pre>
    </details>
  );
}

function ReplayBadge(props: { replay: number }) {
  return props.replay > 0 ? (
    <>
      {" "}
      <span class="badge muted">{`replay ${props.replay}`}</span>
    </>
  ) : null;
}

/** A call to the delivery's destination: these are the delivery's numbered attempts. */
function AttemptItem(props: { attempt: Attempt; sameAs?: number | null | undefined }) {
  const a = props.attempt;
  return (
    <li class="card">
      <p>
        <strong>{`Attempt ${a.number}`}</strong> to {a.target}
        <ReplayBadge replay={a.replay} />:{" "}
        <span class={`badge ${OUTCOME_CLASS[a.outcome] ?? "muted"}`}>{a.outcome}</span>
        {a.httpStatus ? ` · HTTP ${a.httpStatus}` : ""}
        {a.durationMs === null ? "" : ` · ${a.durationMs} ms`} · {formatTime(a.startedAt)}
      </p>
      {a.error ? <p class="error">{a.error}</p> : null}
      <CommandResults attempt={a} />
      {a.request ? (
        typeof props.sameAs === "number" ? (
          <p class="hint">{`Same request as attempt ${props.sameAs}.`}</p>
        ) : (
          <details>
            <summary>Request sent</summary>
            <pre>{prettyJson(a.request)}</pre>
          </details>
        )
      ) : null}
      <AnswerBlock attempt={a} />
    </li>
  );
}

/** enrich.ts records a customer Antavo does not know as a dead lookup with this error. */
const NOT_FOUND_IN_ANTAVO = "customer not found in Antavo";

interface SideCallWords {
  title: string;
  badge: string;
  badgeClass: string;
  /** What it meant for the delivery, after the badge. */
  meaning?: string;
  /** Antavo's reason, when it is a failure worth reading (not "not found"). */
  reason?: string | null;
  reasonClass?: string;
}

/**
 * A lookup in a few words. Whatever it found, the delivery went on (a customer Antavo does not know
 * is planned with what the event carried), so its badge is neutral; only a lookup that must be
 * tried again holds the delivery up.
 */
function lookupWords(a: Attempt): SideCallWords {
  const title = "Customer lookup in Antavo";
  if (a.outcome === "delivered")
    return { title, badge: "found", badgeClass: "muted", meaning: "planned with Antavo's profile of the customer" };
  if (a.outcome === "retry")
    return {
      title,
      badge: "failed, to be tried again",
      badgeClass: "retrying",
      meaning: "the delivery waits for its next attempt",
      reason: a.error,
    };
  if (a.error === NOT_FOUND_IN_ANTAVO)
    return { title, badge: "not found", badgeClass: "muted", meaning: "planned with what the event carried" };
  return {
    title,
    badge: "failed",
    badgeClass: "muted",
    meaning: "planned with what the event carried",
    reason: a.error,
  };
}

/** A reward claim is a workflow's action: a refused one is a real failure of the delivery. */
function claimWords(a: Attempt): SideCallWords {
  const title = "Reward claim in Antavo";
  if (a.outcome === "delivered") return { title, badge: "claimed", badgeClass: "delivered" };
  if (a.outcome === "retry")
    return { title, badge: "to be tried again", badgeClass: "retrying", reason: a.error, reasonClass: "error" };
  if (a.outcome === "outcome_unknown")
    return { title, badge: "unknown outcome", badgeClass: "dead", reason: a.error, reasonClass: "error" };
  return { title, badge: "refused", badgeClass: "dead", reason: a.error, reasonClass: "error" };
}

function sideCallWords(a: Attempt): SideCallWords {
  if (a.kind === "lookup") return lookupWords(a);
  if (a.kind === "claim") return claimWords(a);
  return { title: "Call to Antavo", badge: a.outcome, badgeClass: "muted", reason: a.error };
}

/**
 * A call made for the delivery that is not one of its attempts (the customer lookup and reward
 * claims of a delivery to Bloomreach): unnumbered, and labelled with what it was.
 */
function SideCallItem(props: { attempt: Attempt }) {
  const a = props.attempt;
  const words = sideCallWords(a);
  return (
    <li class="card side-call" data-call={a.kind}>
      <p>
        <strong>{words.title}</strong>
        <ReplayBadge replay={a.replay} />: <span class={`badge ${words.badgeClass}`}>{words.badge}</span>
        {words.meaning ? ` — ${words.meaning}` : ""}
        {a.durationMs === null ? "" : ` · ${a.durationMs} ms`} · {formatTime(a.startedAt)}
      </p>
      {words.reason ? <p class={words.reasonClass ?? "hint"}>{words.reason}</p> : null}
      {typeof a.request === "string" ? <p class="hint mono">{a.request}</p> : null}
      <AnswerBlock attempt={a} />
    </li>
  );
}

function ReplayDivider(props: { replay: number; at: number | undefined }) {
  return (
    <li class="replay-divider">
      <strong>{`Replay ${props.replay}`}</strong>
      {` requested ${formatTime(props.at)}; the attempts below are the replay's.`}
    </li>
  );
}

/** Attempts in order, a divider where each replay begins (also a replay still waiting for its first try). */
function AttemptList(props: { delivery: DeliveryDetail }) {
  const { attemptLog, replays } = props.delivery;
  const seen = new Map<string, number>();
  const items: unknown[] = [];
  let shownReplays = 0;
  for (const a of attemptLog) {
    while (shownReplays < a.replay) {
      shownReplays++;
      items.push(<ReplayDivider replay={shownReplays} at={replays[shownReplays - 1]} />);
    }
    if (a.kind !== "delivery" || a.number === null) {
      items.push(<SideCallItem attempt={a} />);
      continue;
    }
    const key = a.request ? `${a.target} ${JSON.stringify(a.request)}` : undefined;
    const sameAs = key ? seen.get(key) : undefined;
    if (key && sameAs === undefined) seen.set(key, a.number);
    items.push(<AttemptItem attempt={a} sameAs={sameAs} />);
  }
  while (shownReplays < replays.length) {
    shownReplays++;
    items.push(<ReplayDivider replay={shownReplays} at={replays[shownReplays - 1]} />);
  }
  return <ol class="rows">{items}</ol>;
}

/**
 * Each planned command with what became of it: the latest attempt that sent it says so (a replay
 * sends only the commands not yet delivered, so earlier attempts answer for the others).
 */
function PlannedCommands(props: { delivery: DeliveryDetail }) {
  const { commands, attemptLog } = props.delivery;
  const fateOf = (command: unknown): { fate: CommandFate; target: string } | undefined => {
    const wanted = JSON.stringify(command);
    for (let i = attemptLog.length - 1; i >= 0; i--) {
      const attempt = attemptLog[i]!;
      const index = requestList(attempt).findIndex((c) => JSON.stringify(c) === wanted);
      const fate = index >= 0 ? resultsOf(attempt)[index] : undefined;
      if (fate) return { fate, target: attempt.target };
    }
    return undefined;
  };
  return (
    <ol class="rows">
      {commands.map((entry, i) => {
        const command = isRecord(entry) && "command" in entry ? entry.command : entry;
        const known = fateOf(command);
        return (
          <li class={`card${known?.fate.status === "dead" ? " refused" : ""}`}>
            <p>
              <strong>{`Command ${i + 1}`}</strong> <span class="mono">{storedCommandLabel(command)}</span>{" "}
              {known ? (
                <FateBadge fate={known.fate} target={known.target} />
              ) : (
                <span class="badge muted">not sent yet</span>
              )}
            </p>
            {known?.fate.error && known.fate.status !== "delivered" ? <p class="error">{known.fate.error}</p> : null}
            <pre>{prettyJson(command)}</pre>
          </li>
        );
      })}
    </ol>
  );
}

export function DeliveryPage(props: { ctx: ViewContext; delivery: DeliveryDetail; error?: string }) {
  const { ctx, delivery } = props;
  const d = delivery as DeliveryDetail & {
    lastError?: string | null;
    createdAt?: number;
    updatedAt?: number;
    nextAttemptAt?: number | null;
    replayQueued?: boolean;
  };
  const numbered = delivery.attemptLog.filter((a) => a.kind === "delivery").length;
  const sideCalls = delivery.attemptLog.length - numbered;
  const destination = delivery.direction === "to_antavo" ? "Antavo" : "Bloomreach";
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
            {d.replayQueued ? " queued for replay" : ""}
          </dd>
          <dt>Direction</dt>
          <dd>{delivery.direction === "to_antavo" ? "Bloomreach to Antavo" : "Antavo to Bloomreach"}</dd>
          <dt>Action</dt>
          <dd>{delivery.actionLabel ?? delivery.action}</dd>
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
          {d.nextAttemptAt && delivery.status === "retrying" ? (
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
      <h2>{`Attempts (${numbered})`}</h2>
      {sideCalls > 0 ? (
        <p class="hint">
          {`The attempts are the calls to ${destination}. The customer lookups and reward claims in Antavo made for this delivery are listed with them, unnumbered: they are not attempts to deliver it.`}
        </p>
      ) : null}
      {delivery.attemptLog.length === 0 && delivery.replays.length === 0 ? (
        <div class="empty">
          <p>No attempts yet{delivery.status === "pending" ? ": the event is waiting in the queue." : "."}</p>
        </div>
      ) : (
        <AttemptList delivery={delivery} />
      )}
      <h2>{delivery.direction === "to_antavo" ? "Antavo events" : "Bloomreach commands"}</h2>
      {delivery.commands.length === 0 ? (
        <p class="hint">None planned (yet).</p>
      ) : (
        <PlannedCommands delivery={delivery} />
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
