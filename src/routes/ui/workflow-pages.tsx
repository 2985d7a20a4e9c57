/**
 * Admin UI pages for workflows: list, create (blank, JSON or template), the flow editor,
 * activate/deactivate/delete and "Try it". Every change goes through services/workflows.ts and
 * every preview through services/preview.ts, exactly as `/api/workflows` and `/api/preview` do.
 */
import { Hono } from "hono";
import { normaliseEvent } from "../../domain/normalise";
import { TEMPLATE_CATALOG } from "../../domain/workflow/builtin-templates";
import { claimsRewards, validateWorkflowDocument, type WorkflowDocument } from "../../domain/workflow/document";
import { explainMatch, type MatchExplanation } from "../../domain/workflow/explain";
import type { ErrorIssue } from "../../lib/errors";
import { getAntavoConnection } from "../../services/config";
import { previewEvent } from "../../services/preview";
import {
  activateWorkflow,
  createWorkflows,
  deactivateWorkflow,
  deleteWorkflow,
  getWorkflow,
  listWorkflows,
  updateWorkflow,
} from "../../services/workflows";
import { ErrorSummary, emptyState, type FormState } from "../../ui/form";
import { prettyJson } from "../../ui/format";
import { PreviewResult, type PreviewView } from "../../ui/pages/preview";
import { type EditorProps, WorkflowEditorPage } from "../../ui/pages/workflow-editor";
import { NewWorkflowPage, WorkflowsPage } from "../../ui/pages/workflows";
import {
  blankWorkflow,
  editWorkflowForm,
  formFromPost,
  formToDocument,
  type WorkflowForm,
  workflowToForm,
} from "../../ui/workflow-form";
import { sampleFor } from "../../ui/workflow-sample";
import { PreviewSchema } from "../admin/schemas";
import { zodIssues } from "../validation";
import { createdNotice, type UiContext, type UiEnv, viewContext } from "./context";
import { attempt, type FormValues, readForm, redirectWith, str } from "./forms";

type Status = 200 | 400 | 404 | 409 | 422;

const workflowPath = (id: string) => `/admin/workflows/${encodeURIComponent(id)}`;

interface EditorOptions {
  form?: WorkflowForm;
  state?: FormState;
  unsaved?: boolean;
  json?: EditorProps["json"];
  trial?: EditorProps["trial"];
}

/** Reward claims go through the Antavo API connection: the pages warn while there is none. */
const antavoConfigured = async (c: UiContext) => (await getAntavoConnection(c.get("deps"))).configured;

async function editorPage(c: UiContext, id: string | undefined, options: EditorOptions = {}, status: Status = 200) {
  const [workflow, antavo] = await Promise.all([id ? getWorkflow(c.get("deps"), id) : undefined, antavoConfigured(c)]);
  const document = (workflow?.document ?? {}) as Record<string, unknown>;
  const form = options.form ?? (workflow ? workflowToForm(document) : blankWorkflow());
  const state = options.state ?? emptyState(form);
  const json = options.json ?? {
    text: workflow ? prettyJson(workflow.document) : "",
    state: emptyState(),
    open: false,
  };
  const trial = workflow
    ? (options.trial ?? { sample: sampleFor(document, c.get("deps").now()), state: emptyState() })
    : undefined;
  return c.html(
    <WorkflowEditorPage
      ctx={viewContext(c)}
      workflow={workflow}
      form={form}
      state={{ ...state, values: form }}
      unsaved={options.unsaved}
      json={json}
      trial={trial}
      antavoConfigured={antavo}
    />,
    status,
  );
}

/**
 * The editor form as a document, or the issues to show. Lines the form cannot read are reported
 * together with the schema's own issues, so one submit shows every problem.
 */
function documentFrom(
  form: WorkflowForm,
): { ok: true; document: Record<string, unknown> } | { ok: false; state: FormState } {
  const { document, issues } = formToDocument(form);
  if (issues.length === 0) return { ok: true, document };
  const checked = validateWorkflowDocument(document);
  const more = checked.success ? [] : checked.issues.filter((i) => !issues.some((own) => own.path === i.path));
  return {
    ok: false,
    state: { values: form, issues: [...issues, ...more], message: "the workflow document is not valid" },
  };
}

function parseJsonDocument(text: string): { ok: true; value: unknown } | { ok: false; state: FormState } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return {
      ok: false,
      state: {
        values: {},
        issues: [{ path: "document", message: `not valid JSON: ${(error as Error).message}` }],
        message: "The document is not valid JSON.",
      },
    };
  }
}

function templateParams(values: FormValues, template: string): Record<string, unknown> {
  const entry = TEMPLATE_CATALOG.find((t) => t.name === template);
  const submitted = (values.params && typeof values.params === "object" ? values.params : {}) as FormValues;
  const params: Record<string, unknown> = {};
  for (const param of entry?.params ?? []) {
    const text = str(submitted[param.name]);
    // A blank input means "use the default", as leaving the key out of the JSON request does.
    if (text === "") continue;
    params[param.name] =
      param.type === "string[]"
        ? text
            .split(",")
            .map((item) => item.trim())
            .filter(Boolean)
        : text;
  }
  return params;
}

/** `?created=wf_a,wf_b`: the workflows a template just made (at most 100 looked at). */
const createdIds = (query: string | undefined) =>
  (query ?? "")
    .split(",")
    .map((id) => id.trim())
    .filter(Boolean)
    .slice(0, 100);

/** Where a status toggle came from (list or editor), so the admin stays where they were. */
function backTo(values: FormValues, id: string): string {
  const back = str(values.back);
  return back === "/admin/workflows" || back === workflowPath(id) ? back : workflowPath(id);
}

/** Preview issues point into the sample (`event.customer` → `sample: customer …`). */
function sampleIssues(issues: ErrorIssue[]): ErrorIssue[] {
  return issues.map((issue) => ({
    path: "sample",
    message: `${issue.path.replace(/^event\.?/, "") || "the event"}: ${issue.message}`,
  }));
}

/**
 * A date workflow has no event: its sample is the customer (`{"customer": {...}}`, or the customer
 * object itself), planned as the run the scan would make for them.
 */
function dateRunSample(value: unknown): unknown {
  if (!value || typeof value !== "object" || Array.isArray(value) || "action" in value) return value;
  const customer = "customer" in value ? (value as { customer: unknown }).customer : value;
  return { action: "workflow_date_run", customer };
}

interface Trial {
  preview?: PreviewView;
  explanation?: MatchExplanation;
  state: FormState;
}

async function tryWorkflow(c: UiContext, workflowId: string, sample: string): Promise<Trial> {
  const deps = c.get("deps");
  const workflow = await getWorkflow(deps, workflowId);
  const dated = workflow.trigger?.type === "date";
  const parsed = parseJsonDocument(sample);
  if (!parsed.ok)
    return {
      state: {
        values: {},
        issues: [{ path: "sample", message: parsed.state.issues[0]!.message }],
        message: "The sample is not valid JSON.",
      },
    };
  const request = PreviewSchema.safeParse({ event: dated ? dateRunSample(parsed.value) : parsed.value });
  if (!request.success)
    return {
      state: {
        values: {},
        issues: sampleIssues(zodIssues(request.error)),
        message: dated
          ? "The sample is not a customer the relay can plan for."
          : "The sample is not a valid Antavo event.",
      },
    };
  const { event } = await normaliseEvent(request.data.event, deps.now(), 0);
  const preview = await previewEvent(deps, event, { workflowId });
  // Explained against the very event and customer the preview planned with (a date run's tick included).
  const explanation = workflow.valid
    ? explainMatch(workflow.document as WorkflowDocument, preview.event, preview.customer, deps.now())
    : undefined;
  return { preview, explanation, state: emptyState() };
}

export const workflowPages = new Hono<UiEnv>()
  .get("/workflows", async (c) => {
    const { items } = await listWorkflows(c.get("deps"));
    // Only ids of workflows that exist count, and their names come from the list, never the link.
    const named = new Set(createdIds(c.req.query("created")));
    const created = items.filter((w) => named.has(w.id));
    const ctx = viewContext(c);
    const notice = createdNotice(created.map((w) => w.name)) ?? ctx.notice;
    return c.html(
      <WorkflowsPage
        ctx={{ ...ctx, ...(notice ? { notice } : {}) }}
        items={items}
        created={new Set(created.map((w) => w.id))}
      />,
    );
  })
  .get("/workflows/new", async (c) =>
    c.html(
      <NewWorkflowPage
        ctx={viewContext(c)}
        templates={TEMPLATE_CATALOG}
        antavoConfigured={await antavoConfigured(c)}
      />,
    ),
  )
  .get("/workflows/new/blank", (c) => editorPage(c, undefined))
  .post("/workflows/from-template", async (c) => {
    const values = await readForm(c);
    const template = str(values.template);
    const created = await attempt(values, () =>
      createWorkflows(c.get("deps"), { template, params: templateParams(values, template) }),
    );
    if (!created.ok) {
      return c.html(
        <NewWorkflowPage
          ctx={viewContext(c)}
          templates={TEMPLATE_CATALOG}
          failed={{ template, state: created.state }}
          antavoConfigured={await antavoConfigured(c)}
        />,
        created.status as Status,
      );
    }
    const items = "items" in created.data ? created.data.items : [created.data];
    if (items.length === 1) return redirectWith(c, workflowPath(items[0]!.id), "created");
    // Several land on the list, which names them and marks their rows.
    return c.redirect(`/admin/workflows?created=${items.map((w) => encodeURIComponent(w.id)).join(",")}`, 303);
  })
  .post("/workflows/json", async (c) => {
    const text = str((await readForm(c)).document);
    const json = (state: FormState) => ({ text, state, open: true });
    const parsed = parseJsonDocument(text);
    if (!parsed.ok) return editorPage(c, undefined, { json: json(parsed.state) }, 400);
    const created = await attempt({}, () => createWorkflows(c.get("deps"), { document: parsed.value }));
    if (!created.ok) return editorPage(c, undefined, { json: json(created.state) }, created.status as Status);
    return redirectWith(
      c,
      workflowPath("items" in created.data ? created.data.items[0]!.id : created.data.id),
      "created",
    );
  })
  .post("/workflows", async (c) => {
    const values = await readForm(c);
    const form = formFromPost(values);
    const edited = editWorkflowForm(form, values);
    if (edited) return editorPage(c, undefined, { form: edited, unsaved: true });
    const built = documentFrom(form);
    if (!built.ok) return editorPage(c, undefined, { form, state: built.state }, 400);
    const created = await attempt(form, () => createWorkflows(c.get("deps"), { document: built.document }));
    if (!created.ok) return editorPage(c, undefined, { form, state: created.state }, created.status as Status);
    return redirectWith(
      c,
      workflowPath("items" in created.data ? created.data.items[0]!.id : created.data.id),
      "created",
    );
  })
  .get("/workflows/:id", (c) => editorPage(c, c.req.param("id")))
  .post("/workflows/:id", async (c) => {
    const id = c.req.param("id");
    const values = await readForm(c);
    const form = formFromPost(values);
    const edited = editWorkflowForm(form, values);
    if (edited) return editorPage(c, id, { form: edited, unsaved: true });
    const built = documentFrom(form);
    if (!built.ok) return editorPage(c, id, { form, state: built.state }, 400);
    const saved = await attempt(form, () => updateWorkflow(c.get("deps"), id, built.document));
    if (!saved.ok) return editorPage(c, id, { form, state: saved.state }, saved.status as Status);
    return redirectWith(c, workflowPath(id), "saved");
  })
  .post("/workflows/:id/json", async (c) => {
    const id = c.req.param("id");
    const text = str((await readForm(c)).document);
    const json = (state: FormState) => ({ text, state, open: true });
    const parsed = parseJsonDocument(text);
    if (!parsed.ok) return editorPage(c, id, { json: json(parsed.state) }, 400);
    const saved = await attempt({}, () => updateWorkflow(c.get("deps"), id, parsed.value));
    if (!saved.ok) return editorPage(c, id, { json: json(saved.state) }, saved.status as Status);
    return redirectWith(c, workflowPath(id), "saved");
  })
  .post("/workflows/:id/activate", async (c) => {
    const id = c.req.param("id");
    const values = await readForm(c);
    const done = await attempt({}, () => activateWorkflow(c.get("deps"), id));
    if (!done.ok)
      return editorPage(
        c,
        id,
        { state: { ...done.state, message: `Not activated: ${done.state.message}` } },
        done.status as Status,
      );
    // Allowed, because the claims wait for the connection rather than fail; but said where the admin lands.
    const waits = claimsRewards(done.data.document) && !(await antavoConfigured(c));
    return redirectWith(c, backTo(values, id), waits ? "activated-needs-antavo" : "activated");
  })
  .post("/workflows/:id/deactivate", async (c) => {
    const id = c.req.param("id");
    const values = await readForm(c);
    await deactivateWorkflow(c.get("deps"), id);
    return redirectWith(c, backTo(values, id), "deactivated");
  })
  .post("/workflows/:id/delete", async (c) => {
    await deleteWorkflow(c.get("deps"), c.req.param("id"));
    return redirectWith(c, "/admin/workflows", "deleted");
  })
  .post("/workflows/:id/try", async (c) => {
    const id = c.req.param("id");
    const sample = str((await readForm(c)).sample);
    const result = await tryWorkflow(c, id, sample);
    // The live preview swaps in just the result; without JavaScript the whole page comes back.
    if (c.req.header("x-ui-fragment")) {
      return c.html(
        result.preview ? (
          <PreviewResult preview={result.preview} workflowId={id} explanation={result.explanation} />
        ) : (
          <ErrorSummary state={result.state} />
        ),
      );
    }
    return editorPage(
      c,
      id,
      {
        trial: {
          sample,
          state: { ...result.state, values: { sample } },
          preview: result.preview,
          explanation: result.explanation,
        },
      },
      result.preview ? 200 : 400,
    );
  });
