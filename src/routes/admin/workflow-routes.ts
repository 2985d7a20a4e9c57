/** Admin JSON API: workflows (DESIGN 4.2, 4.3) and the built-in template catalog. */
import { Hono } from "hono";
import { z } from "zod";
import { RelayError } from "../../lib/errors";
import {
  activateWorkflow,
  type CreateWorkflowInput,
  createWorkflows,
  deactivateWorkflow,
  deleteWorkflow,
  getWorkflow,
  listTemplates,
  listWorkflows,
  updateWorkflow,
} from "../../services/workflows";
import type { AppEnv } from "../middleware/deps";
import { validate, zodIssues } from "../validation";

/** The document itself is checked by the domain schema, which knows the cross-field rules. */
const JsonObject = z.record(z.string(), z.unknown(), { error: "must be a JSON object" });

const TemplateRequestSchema = z.strictObject({
  template: z
    .string({ error: "must be a template name (GET /api/workflow-templates)" })
    .trim()
    .min(1, "must not be empty"),
  params: z.record(z.string(), z.unknown(), { error: "must be an object of template parameters" }).default({}),
});

/** A body with `template` asks for a built-in template; anything else is a workflow document. */
function createInput(body: Record<string, unknown>): CreateWorkflowInput {
  if (!("template" in body)) return { document: body };
  const parsed = TemplateRequestSchema.safeParse(body);
  if (!parsed.success)
    throw new RelayError("validation_failed", "the template request is not valid", zodIssues(parsed.error));
  return parsed.data;
}

export const workflowRoutes = new Hono<AppEnv>()
  .get("/workflow-templates", (c) => c.json(listTemplates()))
  .get("/workflows", async (c) => c.json(await listWorkflows(c.get("deps"))))
  .post("/workflows", validate("json", JsonObject), async (c) =>
    c.json(await createWorkflows(c.get("deps"), createInput(c.req.valid("json"))), 201),
  )
  .get("/workflows/:id", async (c) => c.json(await getWorkflow(c.get("deps"), c.req.param("id"))))
  .put("/workflows/:id", validate("json", JsonObject), async (c) =>
    c.json(await updateWorkflow(c.get("deps"), c.req.param("id"), c.req.valid("json"))),
  )
  .delete("/workflows/:id", async (c) => c.json(await deleteWorkflow(c.get("deps"), c.req.param("id"))))
  .post("/workflows/:id/activate", async (c) => c.json(await activateWorkflow(c.get("deps"), c.req.param("id"))))
  .post("/workflows/:id/deactivate", async (c) => c.json(await deactivateWorkflow(c.get("deps"), c.req.param("id"))));
