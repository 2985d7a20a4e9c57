/**
 * `GET /api/openapi.json`: the public contracts as OpenAPI 3.1, generated from the very zod schemas
 * that guard the routes, so the document cannot drift from what the relay accepts.
 */
import { z } from "zod";
import { MappingSchema, SettingsSchema } from "../domain/config";
import { WorkflowDocumentSchema } from "../domain/workflow/document";
import { AntavoConnectionSchema, BloomreachConnectionSchema, PreviewSchema } from "./admin/schemas";
import { WebhookBatchSchema, WebhookEventSchema } from "./webhook/schema";

const schema = (s: z.ZodType) => {
  const { $schema: _, ...rest } = z.toJSONSchema(s, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return rest;
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (s: unknown) => ({ content: { "application/json": { schema: s } } });
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, { description: "error", ...json(ref("Error")) }]));
const admin = { security: [{ adminToken: [] }] };

function build() {
  return {
    openapi: "3.1.0",
    info: {
      title: "antavo-bloomreach-relay",
      version: "1",
      description: "Antavo loyalty webhooks in, Bloomreach Engagement commands out. See the README for semantics.",
    },
    components: {
      securitySchemes: {
        adminToken: {
          type: "http",
          scheme: "bearer",
          description:
            "ADMIN_TOKEN. After 10 wrong tokens (API or UI login) from one address within 15 minutes, every call from it answers 429 too_many_requests with Retry-After until the oldest failure is 15 minutes old.",
        },
        webhookBasic: { type: "http", scheme: "basic", description: "WEBHOOK_BASIC_USER / WEBHOOK_BASIC_PASSWORD" },
        webhookJwt: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT (HS256 with WEBHOOK_JWT_SECRET, RS256 with WEBHOOK_JWT_PUBLIC_KEY)",
        },
      },
      schemas: {
        WebhookEvent: schema(WebhookEventSchema),
        WebhookBatch: schema(WebhookBatchSchema),
        Mapping: schema(MappingSchema),
        Settings: schema(SettingsSchema),
        BloomreachConnection: schema(BloomreachConnectionSchema),
        AntavoConnection: schema(AntavoConnectionSchema),
        Preview: schema(PreviewSchema),
        WorkflowDocument: schema(WorkflowDocumentSchema),
        Error: {
          type: "object",
          required: ["error"],
          properties: {
            error: {
              type: "object",
              required: ["code", "message", "requestId"],
              properties: {
                code: { type: "string" },
                message: { type: "string" },
                issues: {
                  type: "array",
                  items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } } },
                },
                requestId: { type: "string" },
              },
            },
          },
        },
      },
    },
    paths: {
      "/webhooks/antavo": {
        post: {
          summary: "Antavo event(s) in",
          security: [{ webhookBasic: [] }, { webhookJwt: [] }],
          requestBody: {
            content: {
              "application/json": { schema: { oneOf: [ref("WebhookEvent"), ref("WebhookBatch")] } },
              "application/x-www-form-urlencoded": {
                schema: { description: "the same fields with bracket keys, e.g. data[total]=12" },
              },
            },
          },
          responses: {
            200: { description: "sync mode: delivered now; `results` per event" },
            202: { description: "async mode (or sync fallback): durably queued; `{accepted, duplicates, ids}`" },
            ...errors(400, 401, 413, 415, 503),
          },
        },
      },
      "/api/connection": {
        get: { ...admin, summary: "Bloomreach connection (the secret is only reported as set)" },
        put: {
          ...admin,
          summary: "Save the Bloomreach connection; resumes paused delivery",
          requestBody: json(ref("BloomreachConnection")),
          responses: errors(400, 401),
        },
      },
      "/api/connection/test": {
        post: { ...admin, summary: "Reachability, credentials and permissions, each with its reason" },
      },
      "/api/antavo": {
        get: { ...admin, summary: "Antavo API connection" },
        put: {
          ...admin,
          summary: "Save the Antavo API connection",
          requestBody: json(ref("AntavoConnection")),
          responses: errors(400, 401),
        },
      },
      "/api/mapping": {
        get: { ...admin, summary: "Hard ID and field mappings" },
        put: {
          ...admin,
          summary: "Replace the mapping (the hard ID is set once)",
          requestBody: json(ref("Mapping")),
          responses: errors(400, 401, 409),
        },
      },
      "/api/settings": {
        get: { ...admin, summary: "Async sync and event synchronisation" },
        put: {
          ...admin,
          summary: "Replace the settings",
          requestBody: json(ref("Settings")),
          responses: errors(400, 401),
        },
      },
      "/api/preview": {
        post: {
          ...admin,
          summary: "The commands and actions an event would produce; no side effects",
          requestBody: json(ref("Preview")),
        },
      },
      "/api/workflows": {
        get: { ...admin, summary: "Workflows with status" },
        post: {
          ...admin,
          summary: "Create (inactive) from a document or `{template, params}`",
          requestBody: json({
            oneOf: [
              ref("WorkflowDocument"),
              { type: "object", properties: { template: { type: "string" }, params: { type: "object" } } },
            ],
          }),
        },
      },
      "/api/workflows/{id}": {
        get: { ...admin },
        put: { ...admin, requestBody: json(ref("WorkflowDocument")) },
        delete: { ...admin },
      },
      "/api/workflows/{id}/activate": { post: { ...admin } },
      "/api/workflows/{id}/deactivate": { post: { ...admin } },
      "/api/workflow-templates": { get: { ...admin, summary: "Built-in templates and their parameters" } },
      "/api/deliveries": {
        get: {
          ...admin,
          summary: "Delivery log, newest first",
          parameters: ["status", "customer", "since", "until", "cursor", "limit"].map((name) => ({
            name,
            in: "query",
            schema: { type: "string" },
          })),
        },
      },
      "/api/deliveries/{id}": { get: { ...admin, summary: "One delivery with its commands and attempts" } },
      "/api/deliveries/{id}/replay": { post: { ...admin, summary: "Replay a dead delivery" } },
      "/api/deliveries/replay": {
        post: { ...admin, summary: "Replay dead deliveries in a window, a page per call: `{replayed, remaining}`" },
      },
      "/api/customers/{id}": { get: { ...admin, summary: "The mirrored customer" } },
      "/api/customers/import": {
        post: { ...admin, summary: "Import Antavo customers (NDJSON or CSV) into the mirror" },
      },
      "/healthz": { get: { summary: "Liveness" } },
    },
  };
}

let document: ReturnType<typeof build> | undefined;

export const openApiDocument = () => (document ??= build());
