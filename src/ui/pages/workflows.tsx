/** The workflow list and the "new workflow" page (blank, or one of the built-in templates). */
import type { TemplateCatalogEntry } from "../../domain/workflow/builtin-templates";
import type { listWorkflows } from "../../services/workflows";
import { CsrfField, ErrorSummary, Field, type FormState } from "../form";
import { formatTime } from "../format";
import { Page, type ViewContext } from "../layout";
import { Prose } from "../prose";

export type WorkflowListItem = Awaited<ReturnType<typeof listWorkflows>>["items"][number];

export function StatusToggle(props: { ctx: ViewContext; id: string; active: boolean; name: string }) {
  const action = props.active ? "deactivate" : "activate";
  return (
    <form method="post" action={`/admin/workflows/${encodeURIComponent(props.id)}/${action}`}>
      <CsrfField token={props.ctx.csrf} />
      <input type="hidden" name="back" value={props.ctx.path} />
      <button type="submit" class={props.active ? "secondary small" : "small"}>
        {props.active ? "Deactivate" : "Activate"}
        <span class="visually-hidden">{` ${props.name}`}</span>
      </button>
    </form>
  );
}

export function WorkflowsPage(props: { ctx: ViewContext; items: WorkflowListItem[]; created?: ReadonlySet<string> }) {
  const { ctx, items } = props;
  const created = props.created ?? new Set<string>();
  return (
    <Page
      ctx={ctx}
      title="Workflows"
      lead="Rules that run on Antavo events or on dates: filters decide who, actions decide what is sent. New workflows start inactive."
    >
      <div class="actions">
        <a class="button" href="/admin/workflows/new">
          New workflow
        </a>
      </div>
      <h2>All workflows</h2>
      {items.length === 0 ? (
        <div class="empty">
          <p>No workflows yet.</p>
          <p>
            <a href="/admin/workflows/new">Start from a template</a> (welcome, birthday reward, tier upgrade…) or from a
            blank workflow.
          </p>
        </div>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Kind</th>
                <th scope="col">Trigger</th>
                <th scope="col">Last run</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((w) => (
                <tr>
                  <td data-label="Name">
                    <a href={`/admin/workflows/${encodeURIComponent(w.id)}`}>{w.name}</a>
                    {created.has(w.id) ? (
                      <>
                        {" "}
                        <span class="badge warn">new</span>
                      </>
                    ) : null}
                  </td>
                  <td data-label="Status">
                    <span class={`badge ${w.status}`}>{w.status}</span>
                    {w.valid ? null : <span class="badge bad">invalid</span>}
                  </td>
                  <td data-label="Kind">{w.kind ?? "—"}</td>
                  <td data-label="Trigger">{w.triggerSummary}</td>
                  <td data-label="Last run">{formatTime(w.lastRunAt)}</td>
                  {/* No label: the button says what it does (its header is for screen readers only). */}
                  <td data-label="">
                    <StatusToggle ctx={ctx} id={w.id} active={w.status === "active"} name={w.name} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}

function paramText(value: unknown): string {
  if (Array.isArray(value)) return value.join(", ");
  return value === undefined || value === null ? "" : String(value);
}

/** Shown on a template that claims rewards, and on its workflows, while Antavo is not connected. */
export function AntavoMissingNotice(props: { when: "template" | "workflow" | "active" }) {
  const lead =
    props.when === "template"
      ? "Needs the Antavo API connection, which is not set up yet: this workflow claims its reward through Antavo's API. You can create it now; until the connection is set up, every claim (and the event after it) is retried for a day or two, then ends dead in the delivery log."
      : props.when === "active"
        ? "This workflow is active and claims Antavo rewards, but no Antavo API connection is configured: every claim (and the actions after it) is retried for a day or two, then ends dead; set the connection up, then replay those deliveries."
        : "This workflow claims Antavo rewards, and no Antavo API connection is configured: activate it once the connection is set up, or its claims are retried for a day or two and then end dead.";
  return (
    <div class="notice warn" role="note">
      {lead} <a href="/admin/antavo">Set up the Antavo API connection</a>
    </div>
  );
}

function TemplateForm(props: {
  ctx: ViewContext;
  template: TemplateCatalogEntry;
  state?: FormState;
  antavoConfigured: boolean;
}) {
  const { template } = props;
  const state: FormState = props.state ?? {
    values: { params: Object.fromEntries(template.params.map((p) => [p.name, paramText(p.default)])) },
    issues: [],
  };
  return (
    <section class="card" aria-labelledby={`tpl-${template.name}`}>
      <h3 id={`tpl-${template.name}`}>{template.title}</h3>
      <p class="hint">
        <Prose text={template.description} />
      </p>
      {template.usesAntavoApi && !props.antavoConfigured ? <AntavoMissingNotice when="template" /> : null}
      <ErrorSummary state={state} scope={template.name} />
      <form method="post" action="/admin/workflows/from-template" novalidate>
        <CsrfField token={props.ctx.csrf} />
        <input type="hidden" name="template" value={template.name} />
        {template.params.map((param) => (
          <Field
            scope={template.name}
            path={`params.${param.name}`}
            label={`${param.label}${param.required ? " (required)" : ""}`}
            type={param.type === "time" ? "time" : "text"}
            state={state}
            hint={
              <Prose
                text={
                  param.type === "string[]" ? `${param.description}. Separate values with commas.` : param.description
                }
              />
            }
          />
        ))}
        <button type="submit">Create from “{template.title}”</button>
      </form>
    </section>
  );
}

export function NewWorkflowPage(props: {
  ctx: ViewContext;
  templates: readonly TemplateCatalogEntry[];
  failed?: { template: string; state: FormState };
  antavoConfigured: boolean;
}) {
  const { ctx } = props;
  return (
    <Page
      ctx={ctx}
      title="New workflow"
      lead="Start from a template and adjust it, or build one from scratch. Either way it is created inactive."
    >
      <section class="card">
        <h2>Blank workflow</h2>
        <p class="hint">A trigger, optional filters and at least one action, edited as a flow.</p>
        <a class="button secondary" href="/admin/workflows/new/blank">
          Start blank
        </a>
      </section>
      <h2>From a template</h2>
      <div class="grid two">
        {props.templates.map((template) => (
          <TemplateForm
            ctx={ctx}
            template={template}
            antavoConfigured={props.antavoConfigured}
            state={props.failed?.template === template.name ? props.failed.state : undefined}
          />
        ))}
      </div>
    </Page>
  );
}
