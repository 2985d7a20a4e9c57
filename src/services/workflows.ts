/**
 * Workflow administration behind `/api/workflows` (DESIGN 4.2, 4.3). Every workflow starts
 * inactive, so saving a document never changes what the relay does until an admin activates it.
 * A built-in template creates its documents together; they get ids that sort in the template's
 * order, because the engine breaks priority and creation-time ties by id.
 */
import type { Database } from "../db/client";
import { deleteRuns, recentScans } from "../db/date-run-queries";
import {
  deleteWorkflowRow,
  insertWorkflows,
  listWorkflowRows,
  readWorkflowRow,
  replaceWorkflowDocument,
  setWorkflowActive,
  type WorkflowRow,
} from "../db/workflow-queries";
import { buildTemplate, TEMPLATE_CATALOG } from "../domain/workflow/builtin-templates";
import {
  validateWorkflowDocument,
  type WorkflowDocument,
  WorkflowDocumentSchema,
  type WorkflowTrigger,
} from "../domain/workflow/document";
import { RelayError } from "../lib/errors";

export interface WorkflowDeps {
  db: Database;
  now: () => number;
}

export type CreateWorkflowInput = { template: string; params: Record<string, unknown> } | { document: unknown };

const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** One line for lists: what starts the workflow. */
export function summariseTrigger(trigger: WorkflowTrigger): string {
  if (trigger.type === "event") return `on Antavo event ${trigger.action}`;
  const at = `at ${trigger.at} UTC`;
  const [year, month, day] = (trigger.date ?? "").split("-").map(Number);
  const from = trigger.date ? `, from ${trigger.date}` : "";
  switch (trigger.repeat) {
    case "once":
      return `once on ${trigger.date} ${at}`;
    case "daily":
      return `daily ${at}${from}`;
    case "weekly": {
      const weekday = new Date(Date.UTC(year!, month! - 1, day!)).getUTCDay();
      return `weekly on ${WEEKDAYS[(weekday + 6) % 7]} ${at}${from}`;
    }
    case "monthly":
      return `monthly on day ${day} ${at}${from}`;
    case "yearly":
      return `yearly on ${MONTHS[month! - 1]} ${day} ${at}${from}`;
    default:
      return `${trigger.repeat} ${at}`;
  }
}

/** The row's document, or undefined when it no longer validates (it is then never run). */
function parseStored(row: WorkflowRow): WorkflowDocument | undefined {
  try {
    const parsed = WorkflowDocumentSchema.safeParse(JSON.parse(row.document));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function view(row: WorkflowRow) {
  const document = parseStored(row);
  return {
    id: row.id,
    name: row.name,
    status: row.active ? ("active" as const) : ("inactive" as const),
    kind: document?.kind ?? null,
    trigger: document?.trigger ?? null,
    triggerSummary: document ? summariseTrigger(document.trigger) : "the stored document no longer validates",
    priority: row.priority,
    valid: document !== undefined,
    lastRunAt: row.lastRunAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** `wf_` + creation second + position in the request + randomness: unique, and sortable within a request. */
export function newWorkflowId(now: number, position: number): string {
  const random = crypto.getRandomValues(new Uint8Array(6));
  const tail = [...random].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `wf_${now.toString(36).padStart(7, "0")}${position.toString(36).padStart(2, "0")}${tail}`;
}

function validDocument(input: unknown): WorkflowDocument {
  const result = validateWorkflowDocument(input);
  if (!result.success) throw new RelayError("validation_failed", "the workflow document is not valid", result.issues);
  return result.document;
}

async function existing(deps: WorkflowDeps, id: string): Promise<WorkflowRow> {
  const row = await readWorkflowRow(deps.db, id);
  if (!row) throw new RelayError("not_found", `no workflow ${id}`);
  return row;
}

export async function listWorkflows(deps: WorkflowDeps) {
  return { items: (await listWorkflowRows(deps.db)).map(view) };
}

export async function getWorkflow(deps: WorkflowDeps, id: string) {
  const row = await existing(deps, id);
  return {
    ...view(row),
    document: parseStored(row) ?? JSON.parse(row.document),
    recentRuns: await recentScans(deps.db, id, 7),
  };
}

/** Creates one workflow from a document, or every workflow of a built-in template; all inactive. */
export async function createWorkflows(deps: WorkflowDeps, input: CreateWorkflowInput) {
  const documents = "template" in input ? buildTemplate(input.template, input.params) : [validDocument(input.document)];
  const now = deps.now();
  const items = documents.map((document, position) => ({ id: newWorkflowId(now, position), document, now }));
  await insertWorkflows(deps.db, items);
  const created = await Promise.all(items.map((item) => getWorkflow(deps, item.id)));
  return "template" in input ? { template: input.template, items: created } : created[0]!;
}

/** Replaces the document; the workflow keeps its status, so an edit to an active one takes effect. */
export async function updateWorkflow(deps: WorkflowDeps, id: string, input: unknown) {
  const document = validDocument(input);
  if (!(await replaceWorkflowDocument(deps.db, id, document, deps.now())))
    throw new RelayError("not_found", `no workflow ${id}`);
  return getWorkflow(deps, id);
}

export async function activateWorkflow(deps: WorkflowDeps, id: string) {
  const row = await existing(deps, id);
  // A document saved under an older schema would be skipped by the engine: say so instead.
  validDocument(JSON.parse(row.document));
  await setWorkflowActive(deps.db, id, true, deps.now());
  return getWorkflow(deps, id);
}

export async function deactivateWorkflow(deps: WorkflowDeps, id: string) {
  if (!(await setWorkflowActive(deps.db, id, false, deps.now())))
    throw new RelayError("not_found", `no workflow ${id}`);
  return getWorkflow(deps, id);
}

export async function deleteWorkflow(deps: WorkflowDeps, id: string) {
  if (!(await deleteWorkflowRow(deps.db, id))) throw new RelayError("not_found", `no workflow ${id}`);
  await deleteRuns(deps.db, id);
  return { id, deleted: true };
}

export const listTemplates = () => ({ items: TEMPLATE_CATALOG });
