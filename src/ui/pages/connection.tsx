/** Connect Bloomreach: the connection form, its delivery state and the "Test connection" results. */
import type { ConnectionTestResult } from "../../bloomreach/client";
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

function TestResults(props: { result: ConnectionTestResult & { resumed?: number } }) {
  const { result } = props;
  return (
    <section class={`notice ${result.ok ? "ok" : "bad"}`} aria-labelledby="test-title" role="status">
      <strong id="test-title">{result.ok ? "Connection test passed" : "Connection test failed"}</strong>
      <ul class="checks">
        {result.checks.map((check) => (
          <li>
            <span class={`badge ${check.ok ? "ok" : "bad"}`}>{check.ok ? "pass" : "fail"}</span>{" "}
            <strong>{check.name}</strong>: {check.message}
          </li>
        ))}
      </ul>
      {result.resumed !== undefined ? <p>Delivery resumed; {result.resumed} parked event(s) sent again.</p> : null}
    </section>
  );
}

export function ConnectionPage(props: {
  ctx: ViewContext;
  connection: BloomreachConnectionView;
  state: FormState;
  test?: ConnectionTestResult & { resumed?: number };
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
      {props.test ? <TestResults result={props.test} /> : null}
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
        <div class="actions">
          <button type="submit">Save connection</button>
        </div>
      </form>
      <form method="post" action="/admin/connection/test" class="card">
        <CsrfField token={ctx.csrf} />
        <p class="hint">
          Checks, with the saved values: the base URL and project token answer, the key and secret are accepted, and the
          key may read customers. Nothing is written to Bloomreach.
        </p>
        <button type="submit" class="secondary" disabled={!connection.configured}>
          Test connection
        </button>
      </form>
    </Page>
  );
}
