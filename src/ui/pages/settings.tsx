/**
 * Event sync: which Antavo actions become Bloomreach events (and under which names), sync mode,
 * and the tunables of Antavo's traffic (redelivery window, lookup TTL, the Antavo API budget).
 */
import { ACTIONS_LIST, ActionsList } from "../datalists";
import { Checkbox, CsrfField, ErrorSummary, Field, type FormState, valueAt } from "../form";
import { Page, type ViewContext } from "../layout";
import { DefaultSubmit, RowsEditor } from "../rows";

export function SettingsPage(props: { ctx: ViewContext; state: FormState; unsaved?: boolean }) {
  const { ctx, state } = props;
  const events = valueAt(state.values, "events");
  const asyncSync = valueAt(state.values, "asyncSync");
  return (
    <Page
      ctx={ctx}
      title="Event sync"
      lead="Which Antavo events are tracked as Bloomreach events, and how the relay answers Antavo."
    >
      {props.unsaved ? (
        <div class="notice info" role="status">
          Rows changed, not saved yet.
        </div>
      ) : null}
      <ErrorSummary state={state} />
      <form method="post" action="/admin/settings" novalidate data-rows-form>
        <DefaultSubmit />
        <CsrfField token={ctx.csrf} />
        <RowsEditor
          path="events"
          legend="Synced events"
          hint="Each Antavo action listed here is tracked in Bloomreach as an event with the event's data as properties. Leave the Bloomreach name blank to use the action's name. Clear a row to remove it."
          columns={[
            { key: "action", label: "Antavo action", list: ACTIONS_LIST, placeholder: "e.g. opt_in" },
            { key: "remoteEvent", label: "Bloomreach event name", placeholder: "blank = same as the action" },
          ]}
          state={state}
          rows={Array.isArray(events) ? events : []}
          emptyText="No events are synced yet: Antavo events only update customer fields (and run workflows)."
          addLabel="Add an event"
        />
        <fieldset class="card">
          <legend>
            <strong>Delivery</strong>
          </legend>
          <Checkbox
            path="asyncSync"
            label="Asynchronous sync"
            state={state}
            checked={asyncSync === true || asyncSync === "on"}
            hint="On: the relay answers Antavo (202) as soon as the event is safely queued and sends it to Bloomreach moments later, with retries. Off: it sends to Bloomreach before answering (200), so Antavo waits and sees the outcome, and retries itself on failure."
          />
          <div class="grid two">
            <Field
              path="rateLimitPerSecond"
              label="Bloomreach calls per second"
              type="number"
              inputmode="numeric"
              min={1}
              max={1000}
              state={state}
              hint="Shared by all consumers for this project."
            />
            <Field
              path="retentionDays"
              label="Keep the delivery log for (days)"
              type="number"
              inputmode="numeric"
              min={1}
              max={3650}
              state={state}
            />
          </div>
        </fieldset>
        <fieldset class="card">
          <legend>
            <strong>Antavo traffic</strong>
          </legend>
          <div class="grid two">
            <Field
              path="dedupeWindowSeconds"
              label="Redelivery window (seconds)"
              type="number"
              inputmode="numeric"
              min={0}
              max={86_400}
              state={state}
              hint="How long an identical event without an id counts as Antavo's redelivery (Antavo resends a failed webhook 5 times, 10 s apart). Events with an id are recognised for as long as the log keeps them. 0 turns this off."
            />
            <Field
              path="enrichmentTtlSeconds"
              label="Ask Antavo about a customer at most every (seconds)"
              type="number"
              inputmode="numeric"
              min={0}
              max={2_592_000}
              state={state}
              hint="When an event lacks a synced field, the relay looks the customer up in Antavo, then not again for this long, even if Antavo did not have the field either. 0 asks every time."
            />
            <Field
              path="antavoRateLimitPerMinute"
              label="Antavo API calls per minute"
              type="number"
              inputmode="numeric"
              min={1}
              max={20_000}
              state={state}
              hint="One budget for every call to Antavo (lookups, reward claims). Antavo allows 1,500 a minute on a shared stack and 20,000 on a dedicated one."
            />
          </div>
        </fieldset>
        <div class="actions">
          <button type="submit">Save settings</button>
        </div>
      </form>
      <ActionsList />
    </Page>
  );
}
