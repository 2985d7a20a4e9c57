/**
 * Connect Bloomreach: the connection form, its delivery state and the "Test connection" results.
 * Save and Test share one form, so a test checks what the admin typed, saved or not.
 */
import type { ConnectionCheck } from "../../bloomreach/client";
import type { ConnectionTestAnswer } from "../../services/bloomreach-connection";
import type { getBloomreachConnection } from "../../services/config";
import { CsrfField, ErrorSummary, Field, type FormState } from "../form";
import { formatTime } from "../format";
import { Page, type ViewContext } from "../layout";

export type BloomreachConnectionView = Awaited<ReturnType<typeof getBloomreachConnection>>;

export function SecretState(props: { set: boolean }) {
  return props.set ? <span class="badge ok">set</span> : <span class="badge muted">not set</span>;
}

export function DeliveryState(props: { connection: BloomreachConnectionView }) {
  const c = props.connection;
  if (!c.configured) return <span class="badge warn">not connected: events wait until a connection is saved</span>;
  if (c.deliveryState === "paused") {
    return (
      <span class="badge bad">
        paused: {"pausedReason" in c && c.pausedReason ? c.pausedReason : "Bloomreach refused the credentials"}
        {"pausedAt" in c && c.pausedAt ? ` (since ${formatTime(c.pausedAt)})` : ""}
      </span>
    );
  }
  return <span class="badge active">active</span>;
}

function CheckBadge(props: { check: ConnectionCheck }) {
  const { check } = props;
  if (check.ok) return <span class="badge ok">pass</span>;
  // Not reached because an earlier check failed: neutral, the failure is shown once, where it is.
  if (check.skipped) return <span class="badge muted">skipped</span>;
  return <span class="badge bad">fail</span>;
}

function testTitle(result: ConnectionTestAnswer) {
  if (result.ok) return "Connection test passed";
  return result.checks.every((c) => c.skipped) ? "Connection test not run" : "Connection test failed";
}

/** What the test was about, when that is not simply "the saved connection". */
export interface TestContext {
  /** The admin typed a secret: it is not put back into the page, so saving needs it typed again. */
  secretTyped?: boolean;
}

function TestResults(props: { result: ConnectionTestAnswer; context: TestContext }) {
  const { result, context } = props;
  const notRun = !result.ok && result.checks.every((c) => c.skipped);
  return (
    <section class={`notice ${result.ok ? "ok" : notRun ? "info" : "bad"}`} aria-labelledby="test-title" role="status">
      <strong id="test-title">{testTitle(result)}</strong>
      {result.tested === "unsaved" ? (
        <p>
          Tested the values in the form; they are <strong>not saved</strong> yet.
          {context.secretTyped ? " The API secret you typed is not kept in the page: type it again to save it." : ""}
        </p>
      ) : null}
      <ul class="checks">
        {result.checks.map((check) => (
          <li>
            <CheckBadge check={check} /> <strong>{check.name}</strong>:{" "}
            {check.skipped ? check.message.replace(/^skipped: /, "") : check.message}
          </li>
        ))}
      </ul>
      {result.resumed !== undefined ? (
        <p>
          Delivery resumed: {parkedCount(result.resumed)} {result.resumed === 1 ? "was" : "were"} queued again.
        </p>
      ) : null}
    </section>
  );
}

export const parkedCount = (n: number) => (n === 1 ? "1 parked event" : `${n} parked events`);

export function ConnectionPage(props: {
  ctx: ViewContext;
  connection: BloomreachConnectionView;
  state: FormState;
  test?: ConnectionTestAnswer;
  testContext?: TestContext;
}) {
  const { ctx, connection, state } = props;
  return (
    <Page
      ctx={ctx}
      title="Connect Bloomreach"
      lead="The Bloomreach Engagement project the relay writes customers and events to."
    >
      <div class="card">
        <dl class="kv">
          <dt>Delivery</dt>
          <dd>
            <DeliveryState connection={connection} />
          </dd>
          <dt>API secret</dt>
          <dd>
            <SecretState set={connection.apiSecretSet} />
          </dd>
          {connection.configured ? (
            <>
              <dt>Last saved</dt>
              <dd>{formatTime(connection.updatedAt)}</dd>
            </>
          ) : null}
        </dl>
      </div>
      {props.test ? <TestResults result={props.test} context={props.testContext ?? {}} /> : null}
      <ErrorSummary state={state} />
      <form method="post" action="/admin/connection" class="card" novalidate>
        <CsrfField token={ctx.csrf} />
        <Field
          path="baseUrl"
          label="API base URL"
          type="url"
          state={state}
          placeholder="e.g. https://api.exponea.com"
          hint="Project settings › Access management › API: the API base URL of your instance."
          required
        />
        <Field path="projectToken" label="Project token" state={state} required />
        <Field
          path="apiKeyId"
          label="API key ID"
          state={state}
          hint="The key ID of a private API group with Get and Set on customer properties and events."
          required
        />
        <Field
          path="apiSecret"
          label="API secret"
          type="password"
          value=""
          autocomplete="new-password"
          state={state}
          hint={
            connection.apiSecretSet
              ? "Set. Leave blank to keep the stored secret (only while the base URL stays on the same host); it is never shown again."
              : "Not set. Required the first time."
          }
        />
        <p class="hint" id="test-hint">
          Test connection checks the values in this form without saving them (a blank secret means the saved one): the
          base URL and project token answer, the key and secret are accepted, and the key may read customers. Nothing is
          written to Bloomreach.
        </p>
        <div class="actions">
          <button type="submit">Save connection</button>
          <button type="submit" class="secondary" formaction="/admin/connection/test" aria-describedby="test-hint">
            Test connection
          </button>
        </div>
      </form>
    </Page>
  );
}
