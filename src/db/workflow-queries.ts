/** Workflow rows: the document is stored as validated JSON and parsed again on the way out. */
import { asc, eq, inArray } from "drizzle-orm";
import { type WorkflowDocument, WorkflowDocumentSchema } from "../domain/workflow/document";
import type { StoredWorkflow } from "../domain/workflow/engine";
import { logger } from "../lib/logger";
import type { Database } from "./client";
import { workflows } from "./schema";

type WorkflowRow = typeof workflows.$inferSelect;

export function toStoredWorkflow(row: WorkflowRow): StoredWorkflow | undefined {
  const parsed = WorkflowDocumentSchema.safeParse(JSON.parse(row.document));
  if (!parsed.success) {
    // A document saved under an older schema is left out rather than run half-understood.
    logger.warn("stored workflow no longer validates; skipped", { workflowId: row.id });
    return undefined;
  }
  return {
    id: row.id,
    name: row.name,
    active: row.active,
    priority: row.priority,
    createdAt: row.createdAt,
    document: parsed.data,
  };
}

export const activeWorkflowsQuery = (db: Database) =>
  db
    .select()
    .from(workflows)
    .where(eq(workflows.active, true))
    .orderBy(asc(workflows.priority), asc(workflows.createdAt), asc(workflows.id));

export const toStoredWorkflows = (rows: WorkflowRow[]): StoredWorkflow[] =>
  rows.map(toStoredWorkflow).filter((w): w is StoredWorkflow => w !== undefined);

export async function listActiveWorkflows(db: Database): Promise<StoredWorkflow[]> {
  return toStoredWorkflows(await activeWorkflowsQuery(db));
}

// ---- admin API -------------------------------------------------------------------------------

export type { WorkflowRow };

/** Every workflow, in the order the engine runs them (priority, age, id). */
export async function listWorkflowRows(db: Database): Promise<WorkflowRow[]> {
  return db.select().from(workflows).orderBy(asc(workflows.priority), asc(workflows.createdAt), asc(workflows.id));
}

export async function readWorkflowRow(db: Database, id: string): Promise<WorkflowRow | undefined> {
  return db.select().from(workflows).where(eq(workflows.id, id)).get();
}

export interface NewWorkflow {
  id: string;
  document: WorkflowDocument;
  now: number;
}

const documentColumns = (document: WorkflowDocument) => ({
  name: document.name,
  priority: document.priority,
  document: JSON.stringify(document),
});

/** Inserts workflows inactive, all or none. */
export async function insertWorkflows(db: Database, items: NewWorkflow[]): Promise<void> {
  const inserts = items.map(({ id, document, now }) =>
    db.insert(workflows).values({ id, active: false, createdAt: now, updatedAt: now, ...documentColumns(document) }),
  );
  if (inserts.length > 0) await db.batch(inserts as [(typeof inserts)[number], ...(typeof inserts)[number][]]);
}

/** Replaces the document (and the columns copied from it); false when there is no such workflow. */
export async function replaceWorkflowDocument(
  db: Database,
  id: string,
  document: WorkflowDocument,
  now: number,
): Promise<boolean> {
  const rows = await db
    .update(workflows)
    .set({ ...documentColumns(document), updatedAt: now })
    .where(eq(workflows.id, id))
    .returning({ id: workflows.id });
  return rows.length > 0;
}

export async function setWorkflowActive(db: Database, id: string, active: boolean, now: number): Promise<boolean> {
  const rows = await db
    .update(workflows)
    .set({ active, updatedAt: now })
    .where(eq(workflows.id, id))
    .returning({ id: workflows.id });
  return rows.length > 0;
}

export async function deleteWorkflowRow(db: Database, id: string): Promise<boolean> {
  const rows = await db.delete(workflows).where(eq(workflows.id, id)).returning({ id: workflows.id });
  return rows.length > 0;
}

/** id → name of the workflows among `ids` that still exist (for labels, e.g. date-run deliveries). */
export async function readWorkflowNames(db: Database, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: workflows.id, name: workflows.name })
    .from(workflows)
    .where(inArray(workflows.id, [...ids]));
  return new Map(rows.map((row) => [row.id, row.name]));
}
