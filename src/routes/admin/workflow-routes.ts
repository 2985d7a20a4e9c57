/** Admin JSON API: workflows (DESIGN 4.2, 4.3) and the built-in template catalog. */
import { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { WorkflowDocumentSchema } from "../../domain/workflow/document";
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
import { ADMIN, adminResponses, answer, createRoute, idParam, mount } from "../openapi";
import { zodIssues } from "../validation";

/** The document itself is checked by the domain schema, which knows the cross-field rules. */
const JsonObject = z.record(z.string(), z.unknown(), { error: "must be a JSON object" });
type JsonObject = z.infer<typeof JsonObject>;

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

const WorkflowDocument = WorkflowDocumentSchema.openapi("WorkflowDocument");
const workflowId = { params: idParam("the workflow id") };
const documentBody = (schema: z.ZodType) => ({ body: { content: { "application/json": { schema } } } });

export const workflowRoutes = new OpenAPIHono<AppEnv>();

mount(
  workflowRoutes,
  createRoute({
    method: "get",
    path: "/workflow-templates",
    ...ADMIN,
    summary: "Built-in templates and their parameters",
    responses: adminResponses({ 200: answer("the template catalog") }),
  }),
  (c) => c.json(listTemplates()),
);
mount(
  workflowRoutes,
  createRoute({
    method: "get",
    path: "/workflows",
    ...ADMIN,
    summary: "Workflows with status",
    responses: adminResponses({ 200: answer("the workflows") }),
  }),
  async (c) => c.json(await listWorkflows(c.get("deps"))),
);
// The bodies are documented as what they must be, and read as any JSON object here: the domain
// checks a document (and createInput a template request) with the cross-field rules and paths.
mount(
  workflowRoutes,
  createRoute({
    method: "post",
    path: "/workflows",
    ...ADMIN,
    summary: "Create (inactive) from a document or `{template, params}`",
    request: documentBody(z.union([WorkflowDocument, TemplateRequestSchema])),
    responses: adminResponses({ 201: answer("the created workflow(s)") }, 400),
  }),
  async (c) => c.json(await createWorkflows(c.get("deps"), createInput(c.req.valid("json") as JsonObject)), 201),
  { jsonBody: JsonObject },
);
mount(
  workflowRoutes,
  createRoute({
    method: "get",
    path: "/workflows/{id}",
    ...ADMIN,
    summary: "One workflow",
    request: workflowId,
    responses: adminResponses({ 200: answer("the workflow") }, 404),
  }),
  async (c) => c.json(await getWorkflow(c.get("deps"), c.req.valid("param").id)),
);
mount(
  workflowRoutes,
  createRoute({
    method: "put",
    path: "/workflows/{id}",
    ...ADMIN,
    summary: "Replace a workflow's document",
    request: { ...workflowId, ...documentBody(WorkflowDocument) },
    responses: adminResponses({ 200: answer("the workflow") }, 400, 404),
  }),
  async (c) => c.json(await updateWorkflow(c.get("deps"), c.req.valid("param").id, c.req.valid("json") as JsonObject)),
  { jsonBody: JsonObject },
);
mount(
  workflowRoutes,
  createRoute({
    method: "delete",
    path: "/workflows/{id}",
    ...ADMIN,
    summary: "Delete a workflow",
    request: workflowId,
    responses: adminResponses({ 200: answer("`{id, deleted}`") }, 404),
  }),
  async (c) => c.json(await deleteWorkflow(c.get("deps"), c.req.valid("param").id)),
);
mount(
  workflowRoutes,
  createRoute({
    method: "post",
    path: "/workflows/{id}/activate",
    ...ADMIN,
    summary: "Activate a workflow",
    request: workflowId,
    responses: adminResponses({ 200: answer("the workflow") }, 404, 409),
  }),
  async (c) => c.json(await activateWorkflow(c.get("deps"), c.req.valid("param").id)),
);
mount(
  workflowRoutes,
  createRoute({
    method: "post",
    path: "/workflows/{id}/deactivate",
    ...ADMIN,
    summary: "Deactivate a workflow",
    request: workflowId,
    responses: adminResponses({ 200: answer("the workflow") }, 404),
  }),
  async (c) => c.json(await deactivateWorkflow(c.get("deps"), c.req.valid("param").id)),
);
