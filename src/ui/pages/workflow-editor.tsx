/**
 * The workflow editor: the document drawn as a flow that reads top to bottom, trigger → filters →
 * actions, each node a small form. Adding or removing a node is a submit button the server answers
 * with the edited, unsaved form, so it works without JavaScript; with it, the page script does the
 * same in place from the <template>s below (no reload: focus and scroll stay where the admin is).
 * A JSON textarea covers what the node forms do not (and pasting a document from elsewhere); "Try
 * it" previews a sample event.
 */
import { claimsRewards, REPEAT_KINDS } from "../../domain/workflow/document";
import type { MatchExplanation } from "../../domain/workflow/explain";
import type { getWorkflow } from "../../services/workflows";
import { ACTIONS_LIST, ActionsList, LOYALTY_FIELDS_LIST, LoyaltyFieldsList } from "../datalists";
import {
  Checkbox,
  CsrfField,
  ErrorSummary,
  Field,
  FieldError,
  type FormState,
  issueAt,
  Select,
  TextArea,
} from "../form";
import { formatTime } from "../format";
import { Page, type ViewContext } from "../layout";
import { DefaultSubmit } from "../rows";
import {
  ACTION_TYPES,
  type ActionForm,
  blankAction,
  blankFilter,
  type FilterForm,
  type WorkflowForm,
} from "../workflow-form";
import { ACTION_TITLES, OPERATOR_OPTIONS } from "../workflow-labels";
import { PreviewResult, type PreviewView } from "./preview";
import { AntavoMissingNotice, StatusToggle } from "./workflows";

export type WorkflowView = Awaited<ReturnType<typeof getWorkflow>>;

/** The index a <template> node carries until the script gives it the next free one. */
const NODE_INDEX = "__i__";

const VALUE_HINT =
  "For “is one of”, separate values with commas; for “exists”, true or false; for “in date”, today, this_week or this_month.";

const NO_FILTERS = "(no filters: every matching event)";
const SOME_FILTERS = "all filters above pass";

/** A node's position as shown ("filter 2"); the script renumbers these after an in-place edit. */
const Num = (props: { n: number | string }) => <span data-node-number>{String(props.n)}</span>;

/** "Remove filter 2": a form post without JavaScript, done in place by the page script with it. */
const RemoveNode = (props: { kind: "filter" | "action"; index: number | string; n: number | string }) => (
  <button
    type="submit"
    name={`_remove_${props.kind}`}
    value={String(props.index)}
    class="danger small"
    data-remove-node
    formnovalidate
  >
    {`Remove ${props.kind} `}
    <Num n={props.n} />
  </button>
);

const TEMPLATE_HINT =
  'One name = value per line. Values may use {{event.<path>}}, {{customer.<path>}} and {{now}} (and {{claim.<path>}} after a reward claim). Text that is valid JSON (5, true, "quoted") is sent as that JSON value.';

function TriggerNode(props: { state: FormState; form: WorkflowForm }) {
  const { state, form } = props;
  return (
    <li>
      <fieldset class="node trigger">
        <legend class="visually-hidden">Trigger</legend>
        <h3>
          <span class="kind">When</span> the workflow starts
        </h3>
        <div class="check">
          <input
            type="radio"
            id="f-trigger-type-event"
            name="trigger[type]"
            value="event"
            checked={form.trigger.type !== "date"}
          />
          <label for="f-trigger-type-event">An Antavo event arrives</label>
        </div>
        <div class="check">
          <input
            type="radio"
            id="f-trigger-type-date"
            name="trigger[type]"
            value="date"
            checked={form.trigger.type === "date"}
          />
          <label for="f-trigger-type-date">On a date (runs for every mirrored customer who passes the filters)</label>
        </div>
        <FieldError path="trigger" messages={issueAt(state.issues, "trigger")} />
        <FieldError path="trigger.type" messages={issueAt(state.issues, "trigger.type")} />
        <div class="when-event">
          <Field
            path="trigger.action"
            label="Antavo action"
            list={ACTIONS_LIST}
            state={state}
            placeholder="e.g. tier_change"
            hint="As your Antavo workspace names it."
          />
        </div>
        <div class="when-date grid two">
          <Select path="trigger.repeat" label="Repeat" options={REPEAT_KINDS} state={state} />
          <Field path="trigger.at" label="At (UTC, HH:MM)" type="time" state={state} />
          <Field
            path="trigger.date"
            label="Date (first occurrence)"
            type="date"
            state={state}
            hint="Required except for daily."
          />
        </div>
      </fieldset>
    </li>
  );
}

function FilterNode(props: { state: FormState; index: number | string; filter: FilterForm }) {
  const { state, index } = props;
  const path = `filters.${index}`;
  const n = typeof index === "number" ? index + 1 : index;
  return (
    <li data-node="filter">
      <fieldset class="node filter">
        <legend class="visually-hidden">
          Filter <Num n={n} />
        </legend>
        <h3>
          <span class="kind">Only if</span> filter <Num n={n} />
        </h3>
        <FieldError path={path} messages={issueAt(state.issues, path)} />
        <div class="grid two">
          <Select
            path={`${path}.type`}
            label="Look at"
            options={[
              ["event_attribute", "the event's data"],
              ["customer_attribute", "the customer"],
            ]}
            state={state}
          />
          <Field
            path={`${path}.attribute`}
            label="Attribute (dot path)"
            list={LOYALTY_FIELDS_LIST}
            state={state}
            placeholder="e.g. tier"
          />
          <Select path={`${path}.operator`} label="Operator" options={OPERATOR_OPTIONS} state={state} />
          <Field path={`${path}.value`} label="Value" state={state} hint={VALUE_HINT} />
        </div>
        <RemoveNode kind="filter" index={index} n={n} />
      </fieldset>
    </li>
  );
}

function ActionNode(props: { state: FormState; index: number | string; action: ActionForm }) {
  const { state, index, action } = props;
  const path = `actions.${index}`;
  const n = typeof index === "number" ? index + 1 : index;
  return (
    <li data-node="action">
      <fieldset class="node action">
        <legend class="visually-hidden">
          Action <Num n={n} />
        </legend>
        <h3>
          <span class="kind" data-node-then>
            {index === 0 ? "Then" : "And then"}
          </span>{" "}
          {ACTION_TITLES[action.type] ?? action.type}
        </h3>
        <input type="hidden" name={`actions[${index}][type]`} value={action.type} />
        <FieldError path={path} messages={issueAt(state.issues, path)} />
        <FieldError path={`${path}.type`} messages={issueAt(state.issues, `${path}.type`)} />
        {action.type === "sync_event" ? (
          <>
            <Field
              path={`${path}.event`}
              label="Bloomreach event name"
              state={state}
              placeholder="e.g. loyalty_tier_gold"
            />
            <TextArea
              path={`${path}.properties`}
              label="Event properties"
              state={state}
              nested
              rows={5}
              hint={TEMPLATE_HINT}
            />
          </>
        ) : null}
        {action.type === "sync_fields" ? (
          <TextArea
            path={`${path}.fields`}
            label="Customer properties"
            state={state}
            nested
            rows={5}
            hint={TEMPLATE_HINT}
          />
        ) : null}
        {action.type === "reward_claim" ? (
          <>
            <Field path={`${path}.rewardId`} label="Antavo reward ID" state={state} />
            <Checkbox
              path={`${path}.free`}
              label="Free claim"
              state={state}
              checked={action.free === "on"}
              hint="Claims without spending the customer's points (needs the Antavo API connection)."
            />
          </>
        ) : null}
        <RemoveNode kind="action" index={index} n={n} />
      </fieldset>
    </li>
  );
}

export interface EditorProps {
  ctx: ViewContext;
  /** Absent while creating. */
  workflow?: WorkflowView;
  form: WorkflowForm;
  state: FormState;
  unsaved?: boolean;
  json: { text: string; state: FormState; open: boolean };
  trial?: { sample: string; state: FormState; preview?: PreviewView; explanation?: MatchExplanation };
  /** Whether the Antavo API connection is set up (reward claims need it). */
  antavoConfigured: boolean;
}

/** The empty nodes the page script copies in place of the "Add …" round trip. */
function NodeTemplates(props: { form: WorkflowForm }) {
  const empty: FormState = { values: {}, issues: [] };
  const filter = blankFilter(props.form.trigger.type);
  return (
    <>
      <template data-node-template="filter">
        <FilterNode
          state={{ values: { filters: { [NODE_INDEX]: filter } }, issues: [] }}
          index={NODE_INDEX}
          filter={filter}
        />
      </template>
      {ACTION_TYPES.map((type) => (
        <template data-node-template={type}>
          <ActionNode state={empty} index={NODE_INDEX} action={blankAction(type)} />
        </template>
      ))}
    </>
  );
}

export function WorkflowEditorPage(props: EditorProps) {
  const { ctx, workflow, form, state } = props;
  const base = workflow ? `/admin/workflows/${encodeURIComponent(workflow.id)}` : "/admin/workflows";
  const title = workflow ? workflow.name : "New workflow";
  const antavoMissing =
    !props.antavoConfigured && claimsRewards(workflow ? workflow.document : { actions: form.actions });
  return (
    <Page ctx={ctx} title={title}>
      {workflow ? (
        <div class="card">
          <dl class="kv">
            <dt>Status</dt>
            <dd>
              <span class={`badge ${workflow.status}`}>{workflow.status}</span>
            </dd>
            <dt>Starts</dt>
            <dd>{workflow.triggerSummary}</dd>
            <dt>Last run</dt>
            <dd>{formatTime(workflow.lastRunAt)}</dd>
            <dt>Last saved</dt>
            <dd>{formatTime(workflow.updatedAt)}</dd>
          </dl>
          <div class="actions">
            <StatusToggle ctx={ctx} id={workflow.id} active={workflow.status === "active"} name={workflow.name} />
            <a href="/admin/workflows">All workflows</a>
          </div>
          {antavoMissing ? <AntavoMissingNotice when={workflow.status === "active" ? "active" : "workflow"} /> : null}
          {workflow.recentRuns.length > 0 ? (
            <details>
              <summary>Recent date runs</summary>
              <ul>
                {workflow.recentRuns.map((run) => (
                  <li>
                    {run.occurrence}: {run.customers} customer(s), started {formatTime(run.startedAt)}
                  </li>
                ))}
              </ul>
            </details>
          ) : null}
        </div>
      ) : null}
      {props.unsaved ? (
        <div class="notice info" role="status">
          Changed, not saved yet.
        </div>
      ) : null}
      <ErrorSummary state={state} />
      <form method="post" action={base} novalidate data-enter-moves>
        <DefaultSubmit />
        <CsrfField token={ctx.csrf} />
        <div class="card">
          <Field path="name" label="Name" state={state} />
          <div class="grid two">
            <Select
              path="kind"
              label="Kind"
              options={[
                ["general", "general (runs until deactivated)"],
                ["campaign", "campaign (only between the dates below)"],
              ]}
              state={state}
            />
            <Field
              path="priority"
              label="Priority"
              type="number"
              inputmode="numeric"
              state={state}
              hint="Lower runs first. Default 100."
            />
            <Field path="startsAt" label="Campaign starts (UTC)" type="datetime-local" state={state} />
            <Field path="endsAt" label="Campaign ends (UTC)" type="datetime-local" state={state} />
          </div>
        </div>
        <h2>Flow</h2>
        <ol
          class="flow"
          aria-label="Workflow flow: trigger, filters, actions"
          data-flow
          data-next-filter={String(form.filters.length)}
          data-next-action={String(form.actions.length)}
        >
          <TriggerNode state={state} form={form} />
          {form.filters.map((filter, index) => (
            <FilterNode state={state} index={index} filter={filter} />
          ))}
          <li>
            <div class="node filter">
              <h3>
                <span class="kind">Only if</span>{" "}
                <span data-filters-summary data-none={NO_FILTERS} data-some={SOME_FILTERS}>
                  {form.filters.length === 0 ? NO_FILTERS : SOME_FILTERS}
                </span>
              </h3>
              <button
                type="submit"
                name="_add_filter"
                value="1"
                class="secondary small"
                data-add-node="filter"
                formnovalidate
              >
                Add a filter
              </button>
            </div>
          </li>
          {form.actions.map((action, index) => (
            <ActionNode state={state} index={index} action={action} />
          ))}
          <li>
            <div class="node action">
              <h3>
                <span class="kind">Add an action</span>
              </h3>
              <FieldError path="actions" messages={issueAt(state.issues, "actions")} />
              <div class="actions">
                <button
                  type="submit"
                  name="_add_action"
                  value="sync_event"
                  class="secondary small"
                  data-add-node="sync_event"
                  formnovalidate
                >
                  + Track event
                </button>
                <button
                  type="submit"
                  name="_add_action"
                  value="sync_fields"
                  class="secondary small"
                  data-add-node="sync_fields"
                  formnovalidate
                >
                  + Update customer
                </button>
                <button
                  type="submit"
                  name="_add_action"
                  value="reward_claim"
                  class="secondary small"
                  data-add-node="reward_claim"
                  formnovalidate
                >
                  + Claim reward
                </button>
              </div>
            </div>
          </li>
        </ol>
        <NodeTemplates form={form} />
        <div class="actions">
          <button type="submit">{workflow ? "Save workflow" : "Create workflow"}</button>
        </div>
      </form>
      <LoyaltyFieldsList />
      <ActionsList />

      {workflow && props.trial ? (
        <TryIt ctx={ctx} base={base} trial={props.trial} workflow={workflow} antavoMissing={antavoMissing} />
      ) : null}

      <details class="card" open={props.json.open}>
        <summary>Edit as JSON</summary>
        <p class="hint">The whole document (DESIGN 4.3). Saving here replaces what the flow above shows.</p>
        <ErrorSummary state={props.json.state} />
        <form method="post" action={`${base}/json`} novalidate>
          <CsrfField token={ctx.csrf} />
          <TextArea
            path="document"
            label="Workflow document (JSON)"
            state={{ values: {}, issues: [] }}
            value={props.json.text}
            rows={18}
          />
          <button type="submit">{workflow ? "Save JSON" : "Create from JSON"}</button>
        </form>
      </details>

      {workflow ? (
        <details class="card">
          <summary>Delete this workflow</summary>
          <form method="post" action={`${base}/delete`} data-confirm="Delete this workflow? This cannot be undone.">
            <CsrfField token={ctx.csrf} />
            <p class="hint">Removes the workflow and its run history. Deliveries it produced stay in the log.</p>
            <button type="submit" class="danger">
              Delete workflow
            </button>
          </form>
        </details>
      ) : null}
    </Page>
  );
}

function TryIt(props: {
  ctx: ViewContext;
  base: string;
  workflow: WorkflowView;
  trial: NonNullable<EditorProps["trial"]>;
  antavoMissing: boolean;
}) {
  const { trial, workflow } = props;
  const dateTriggered = workflow.trigger?.type === "date";
  return (
    <section class="card" aria-labelledby="try-title">
      <h2 id="try-title">Try it</h2>

      <p class="hint">
        {dateTriggered
          ? "Plans this workflow's run for the sample customer as today's scan would (fields the sample leaves out are read from the customer mirror), and shows what would be sent."
          : "Plans a sample Antavo event exactly as the relay would, with the saved mapping, event sync and active workflows, and shows the Bloomreach commands."}{" "}
        Nothing is sent or stored.
        {workflow.status !== "active" ? " This workflow is inactive; it is included here as if it were active." : ""}
      </p>
      {props.antavoMissing ? (
        <p class="notice warn">
          No Antavo API connection is configured: this shows the reward claim, but the relay cannot make it until the
          connection is set up under <a href="/admin/antavo">Antavo API</a>; until then it is retried, and after a day
          or two ends dead.
        </p>
      ) : null}
      <ErrorSummary state={trial.state} />
      <form method="post" action={`${props.base}/try`} novalidate data-live-preview>
        <CsrfField token={props.ctx.csrf} />
        <TextArea
          path="sample"
          label={
            dateTriggered
              ? "Sample customer (JSON, as the customer mirror holds it)"
              : "Sample event (JSON, as Antavo posts it)"
          }
          state={trial.state}
          value={trial.sample}
          rows={10}
        />
        <button type="submit" class="secondary">
          Try it
        </button>
      </form>
      <div data-preview-output aria-live="polite">
        {trial.preview ? (
          <PreviewResult preview={trial.preview} workflowId={workflow.id} explanation={trial.explanation} />
        ) : null}
      </div>
    </section>
  );
}
