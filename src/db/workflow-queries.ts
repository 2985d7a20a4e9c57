/** Workflow rows: the document is stored as validated JSON and parsed again on the way out. */
import { asc, eq } from "drizzle-orm";
import { WorkflowDocumentSchema } from "../domain/workflow/document";
import type { StoredWorkflow } from "../domain/workflow/engine";
import type { Database } from "./client";
import { workflows } from "./schema";

type WorkflowRow = typeof workflows.$inferSelect;

export function toStoredWorkflow(row: WorkflowRow): StoredWorkflow | undefined {
  const parsed = WorkflowDocumentSchema.safeParse(JSON.parse(row.document));
  if (!parsed.success) {
    // A document saved under an older schema is left out rather than run half-understood.
    console.error(JSON.stringify({ workflowId: row.id, message: "stored workflow no longer validates; skipped" }));
    return undefined;
  }
  return { id: row.id, name: row.name, active: row.active, priority: row.priority, createdAt: row.createdAt, document: parsed.data };
}

export async function listActiveWorkflows(db: Database): Promise<StoredWorkflow[]> {
  const rows = await db.select().from(workflows).where(eq(workflows.active, true)).orderBy(asc(workflows.priority), asc(workflows.createdAt), asc(workflows.id));
  return rows.map(toStoredWorkflow).filter((w): w is StoredWorkflow => w !== undefined);
}
