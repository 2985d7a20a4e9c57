/** The Antavo API connection: used for customer enrichment and the reward-claim action. */
import type { getAntavoConnection } from "../../services/config";
import { CsrfField, ErrorSummary, Field, type FormState } from "../form";
import { formatTime } from "../format";
import { Page, type ViewContext } from "../layout";
import { SecretState } from "./connection";

/**
 * Where `npm start` runs the Antavo sandbox unless told another port (src/dev/start.mjs); the relay
 * is not told the port, so the page names the default. Plain http to loopback is accepted only
 * when ENVIRONMENT is `local` (domain/outbound-url.ts).
 */
const LOCAL_ENVIRONMENT = "local";
const ANTAVO_SANDBOX_URL = "http://127.0.0.1:8789";

export type AntavoConnectionView = Awaited<ReturnType<typeof getAntavoConnection>>;

export function AntavoPage(props: { ctx: ViewContext; connection: AntavoConnectionView; state: FormState }) {
  const { ctx, connection, state } = props;
  return (
    <Page
      ctx={ctx}
      title="Antavo API"
      lead="Optional. Lets the relay fetch a customer's full loyalty profile and claim rewards for reward_claim workflow actions."
    >
      <div class="card">
        <dl class="kv">
          <dt>Status</dt>
          <dd>
            {connection.configured ? (
              <span class="badge ok">configured</span>
            ) : (
              <span class="badge muted">not configured</span>
            )}
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
      <ErrorSummary state={state} />
      <form method="post" action="/admin/antavo" class="card" novalidate>
        <CsrfField token={ctx.csrf} />
        <Field
          path="baseUrl"
          label="API base URL"
          type="url"
          state={state}
          placeholder="e.g. https://api.<environment>.antavo.com"
          hint={`An Antavo API host on antavo.com, over https${
            ctx.environment === LOCAL_ENVIRONMENT ? ` (locally: the Antavo sandbox, ${ANTAVO_SANDBOX_URL})` : ""
          }.`}
          required
        />
        <Field
          path="environment"
          label="Environment name"
          state={state}
          hint="Part of the request signature's credential scope (letters, digits, _ and -)."
          required
        />
        <Field path="apiKey" label="API key" state={state} required />
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
          <button type="submit">Save Antavo connection</button>
        </div>
      </form>
    </Page>
  );
}
