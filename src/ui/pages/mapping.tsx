/**
 * Sync fields: the hard ID (first, because it keys every Bloomreach customer and is set once) and
 * the loyalty field → Bloomreach property rows.
 */
import type { FieldType, Mapping } from "../../domain/config";
import { HARD_IDS_LIST, HardIdsList, LOYALTY_FIELDS_LIST, LoyaltyFieldsList } from "../datalists";
import { CsrfField, ErrorSummary, Field, FieldError, type FormState, issueAt, valueAt } from "../form";
import { Page, type ViewContext } from "../layout";
import { DefaultSubmit, RowsEditor } from "../rows";

/** The mapping `type` choices; "" sends the value as Antavo sends it (numbers stay numbers). */
export const FIELD_TYPE_OPTIONS: readonly [value: FieldType | "", label: string][] = [
  ["", "As Antavo sends it"],
  ["string", "Text"],
  ["number", "Number"],
  ["boolean", "True/false"],
  ["date", "Date (Unix seconds)"],
];

function HardId(props: { locked: Mapping["hardId"]; state: FormState }) {
  const { locked, state } = props;
  const messages = issueAt(state.issues, "hardId");
  return (
    <fieldset class="card">
      <legend>
        <strong>Hard ID</strong>
      </legend>
      {locked ? (
        <div class="locked" id="hard-id-locked">
          <svg width="18" height="20" viewBox="0 0 18 20" aria-hidden="true" focusable="false">
            <rect x="1" y="8" width="16" height="11" rx="2" fill="#57606a" />
            <path d="M5 8V5.5a4 4 0 0 1 8 0V8" fill="none" stroke="#57606a" stroke-width="2.2" />
          </svg>
          <p class="hint">
            Locked: <strong>{locked.loyaltyField}</strong> → <strong>{locked.remoteId}</strong>. Bloomreach keys every
            customer by this ID, so changing it would split each customer in two. It can be set once; to change it,
            start a new Bloomreach project.
          </p>
        </div>
      ) : (
        <p class="hint">
          Which loyalty field identifies the customer in Bloomreach, and as which customer ID (usually{" "}
          <code>email</code> → <code>registered</code>). Case-sensitive. It can be set once: choose carefully.
        </p>
      )}
      <div class="grid two">
        <Field
          path="hardId.loyaltyField"
          label="Loyalty field"
          state={state}
          list={LOYALTY_FIELDS_LIST}
          readonly={Boolean(locked)}
          placeholder="e.g. email"
        />
        <Field
          path="hardId.remoteId"
          label="Bloomreach customer ID"
          state={state}
          list={HARD_IDS_LIST}
          readonly={Boolean(locked)}
          placeholder="e.g. registered"
        />
      </div>
      <FieldError path="hardId" messages={messages} />
    </fieldset>
  );
}

export function MappingPage(props: {
  ctx: ViewContext;
  locked: Mapping["hardId"];
  state: FormState;
  unsaved?: boolean;
}) {
  const { ctx, state } = props;
  const rows = valueAt(state.values, "fields");
  return (
    <Page
      ctx={ctx}
      title="Sync fields"
      lead="Which loyalty fields the relay copies onto the Bloomreach customer whenever Antavo sends an event."
    >
      {props.unsaved ? (
        <div class="notice info" role="status">
          Rows changed, not saved yet.
        </div>
      ) : null}
      <ErrorSummary state={state} />
      <form method="post" action="/admin/mapping" novalidate data-rows-form>
        <DefaultSubmit />
        <CsrfField token={ctx.csrf} />
        <HardId locked={props.locked} state={state} />
        <RowsEditor
          path="fields"
          legend="Synced fields"
          hint="Loyalty fields are dot paths into the Antavo customer (tiers.0.name, properties.favourite_store); tier is the current tier's name. Send as: the type Bloomreach gets; a value that cannot take it is left out, with a warning in the delivery log. Antavo's point and count fields are numbers even when left as sent. Clear a row to remove it."
          columns={[
            { key: "loyaltyField", label: "Loyalty field", list: LOYALTY_FIELDS_LIST, placeholder: "e.g. score" },
            { key: "remoteField", label: "Bloomreach property", placeholder: "e.g. loyalty_points" },
            { key: "type", label: "Send as", options: FIELD_TYPE_OPTIONS },
          ]}
          state={state}
          rows={Array.isArray(rows) ? rows : []}
          emptyText="No fields are synced yet: only the hard ID and events reach Bloomreach."
          addLabel="Add a field"
        />
        <div class="actions">
          <button type="submit">Save fields</button>
        </div>
      </form>
      <LoyaltyFieldsList />
      <HardIdsList />
    </Page>
  );
}
