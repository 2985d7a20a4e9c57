/**
 * Inbound from Bloomreach (DESIGN 4.4): what to paste into a Bloomreach scenario's Webhook node,
 * the rules that turn a Bloomreach event into Antavo points (or any Antavo event), and a Try it
 * that shows the exact Antavo request a sample body would make.
 */
import type { previewInbound } from "../../services/inbound";
import { CsrfField, ErrorSummary, type FormState, TextArea, valueAt } from "../form";
import { prettyJson } from "../format";
import { Page, type ViewContext } from "../layout";
import { DefaultSubmit, RowsEditor } from "../rows";

export type InboundPreviewView = Awaited<ReturnType<typeof previewInbound>>;

export const SAMPLE_BLOOMREACH_BODY = JSON.stringify(
  {
    event_type: "newsletter_signup",
    customer_ids: { registered: "ada@example.com" },
    properties: { source: "footer" },
  },
  null,
  2,
);

function WebhookSetup(props: { url: string; tokenSet: boolean; remoteId: string | undefined }) {
  const idName = props.remoteId ?? "registered";
  return (
    <section class="card" aria-labelledby="setup-title">
      <h2 id="setup-title">In Bloomreach: the scenario's Webhook node</h2>
      {props.tokenSet ? null : (
        <div class="notice warn" role="status">
          The relay has no BLOOMREACH_WEBHOOK_TOKEN secret yet, so it refuses every call from Bloomreach. Set it with{" "}
          <code>wrangler secret put BLOOMREACH_WEBHOOK_TOKEN</code>.
        </div>
      )}
      <dl class="kv">
        <dt>Method</dt>
        <dd>
          <code>POST</code>
        </dd>
        <dt>URL</dt>
        <dd>
          <code id="inbound-webhook-url">{props.url}</code>
        </dd>
        <dt>Headers</dt>
        <dd>
          <code>Authorization: Bearer </code>
          <em>the BLOOMREACH_WEBHOOK_TOKEN secret</em>
          <br />
          <code>Content-Type: application/json</code>
        </dd>
        <dt>Body</dt>
        <dd>
          <pre>
            {`{
  "event_type": "newsletter_signup",
  "customer_ids": {"${idName}": "{{ customer_ids.${idName} }}"},
  "properties": {"source": "footer"}
}`}
          </pre>
          <p class="hint">
            The <code>{`customer_ids.${idName}`}</code> value is how the relay finds the customer in Antavo, so it must
            be the same ID the relay syncs to Bloomreach. Add an <code>id</code> to make Bloomreach's retries safe: the
            same id is never turned into a second Antavo event.
          </p>
        </dd>
      </dl>
    </section>
  );
}

function TryResult(props: { preview?: InboundPreviewView; error?: string }) {
  if (props.error)
    return (
      <div class="notice warn" role="status" id="inbound-try-result">
        {props.error}
      </div>
    );
  const preview = props.preview;
  if (!preview) return null;
  return (
    <div class="preview" id="inbound-try-result">
      <h3>What the relay would send to Antavo</h3>
      {preview.warnings.length > 0 ? (
        <div class="notice warn">
          <ul>
            {preview.warnings.map((w) => (
              <li>{w}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <pre>{`${preview.request.method} ${preview.request.url}\n${Object.entries(preview.request.headers)
        .map(([k, v]) => `${k}: ${v}`)
        .join("\n")}\n\n${prettyJson(preview.request.body)}`}</pre>
      <p class="hint">The request is signed when it is sent; nothing was sent or stored now.</p>
    </div>
  );
}

export function InboundPage(props: {
  ctx: ViewContext;
  state: FormState;
  webhookUrl: string;
  tokenSet: boolean;
  remoteId: string | undefined;
  sample: string;
  preview?: InboundPreviewView;
  tryError?: string;
  unsaved?: boolean;
}) {
  const { ctx, state } = props;
  const rules = valueAt(state.values, "rules");
  return (
    <Page
      ctx={ctx}
      title="Inbound from Bloomreach"
      lead="Reward engagement that happens in Bloomreach (a newsletter sign-up, an answered survey) with loyalty points: a Bloomreach scenario calls the relay, and the relay sends the matching event to Antavo for that customer."
    >
      <WebhookSetup url={props.webhookUrl} tokenSet={props.tokenSet} remoteId={props.remoteId} />
      {props.unsaved ? (
        <div class="notice info" role="status">
          Rows changed, not saved yet.
        </div>
      ) : null}
      <ErrorSummary state={state} />
      <form method="post" action="/admin/inbound" novalidate data-rows-form>
        <DefaultSubmit />
        <CsrfField token={ctx.csrf} />
        <RowsEditor
          path="rules"
          legend="Rules"
          hint='Which Bloomreach event becomes which Antavo event. Details are what Antavo receives, written as JSON; {{properties.source}}, {{customer_ids.registered}} and {{timestamp}} take values from the Bloomreach event, and a value that is only a placeholder keeps its type. For 50 points for a newsletter sign-up: Bloomreach event newsletter_signup, Antavo event point_add, details {"points": 50, "reason": "{{properties.source}}"}. Clear a row to remove it.'
          columns={[
            { key: "eventType", label: "Bloomreach event" },
            { key: "antavoAction", label: "Antavo event" },
            { key: "data", label: "Details (JSON)" },
          ]}
          state={state}
          rows={Array.isArray(rules) ? rules : []}
          emptyText="No rules yet: the relay refuses every Bloomreach event (422) until one covers it."
          addLabel="Add a rule"
        />
        <div class="actions">
          <button type="submit">Save rules</button>
        </div>
      </form>
      <section class="card" aria-labelledby="try-title">
        <h2 id="try-title">Try it</h2>
        <form method="post" action="/admin/inbound/try" novalidate>
          <CsrfField token={ctx.csrf} />
          <TextArea
            path="sample"
            label="A Bloomreach webhook body"
            state={{ values: { sample: props.sample }, issues: [] }}
            hint="Uses the saved rules and the customers the relay knows; sends nothing."
            rows={8}
          />
          <div class="actions">
            <button type="submit" class="secondary">
              Try it
            </button>
          </div>
        </form>
        <TryResult preview={props.preview} error={props.tryError} />
      </section>
    </Page>
  );
}
