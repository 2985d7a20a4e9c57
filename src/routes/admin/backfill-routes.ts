/** Admin JSON API: backfill jobs (DESIGN 4.5) and the Bloomreach import file of the mirror. */
import { OpenAPIHono } from "@hono/zod-openapi";
import { cancelBackfill, getBackfill, startBackfill } from "../../services/backfill";
import { exportBloomreachCsv } from "../../services/export";
import type { AppEnv } from "../middleware/deps";
import { ADMIN, adminResponses, answer, createRoute, idParam, mount, z } from "../openapi";
import { instant } from "./schemas";

const BackfillSchema = z.object({
  /** Only customers mirrored (imported or updated) at or after this time. */
  updatedSince: instant.optional(),
});

const PROGRESS =
  "`{id, status: running|done|cancelled|failed, total, sent, skipped, failed, startedAt, finishedAt, updatedSince, error?, failures: [{customerId, status, error}]}`";

export const backfillRoutes = new OpenAPIHono<AppEnv>();

mount(
  backfillRoutes,
  createRoute({
    method: "post",
    path: "/backfill",
    ...ADMIN,
    summary: "Send every mirrored customer's mapped fields to Bloomreach (one job at a time)",
    description:
      "Each customer becomes one `customers` command planned through its CustomerSync object: unchanged fields are not sent, `update_timestamp` is the mirrored snapshot's time. Answers 409 while another backfill runs.",
    request: { body: { content: { "application/json": { schema: BackfillSchema } } } },
    responses: adminResponses({ 202: answer("`{id, total}`") }, 400, 409, 422, 503),
  }),
  async (c) => c.json(await startBackfill(c.get("deps"), c.req.valid("json")), 202),
);
mount(
  backfillRoutes,
  createRoute({
    method: "get",
    path: "/backfill/{id}",
    ...ADMIN,
    summary: "A backfill's progress",
    request: { params: idParam("the backfill id") },
    responses: adminResponses({ 200: answer(PROGRESS) }, 404),
  }),
  async (c) => c.json(await getBackfill(c.get("deps"), c.req.valid("param").id)),
);
mount(
  backfillRoutes,
  createRoute({
    method: "delete",
    path: "/backfill/{id}",
    ...ADMIN,
    summary: "Cancel a running backfill (pages not yet run are not sent)",
    request: { params: idParam("the backfill id") },
    responses: adminResponses({ 200: answer(PROGRESS) }, 404, 409),
  }),
  async (c) => c.json(await cancelBackfill(c.get("deps"), c.req.valid("param").id)),
);
mount(
  backfillRoutes,
  createRoute({
    method: "get",
    path: "/export/bloomreach.csv",
    ...ADMIN,
    summary: "The mirror as a Bloomreach customer import file (CSV, streamed)",
    description:
      "The hard-ID column, then one column per mapped remote field, typed as the mapping says. Customers without a usable hard ID are left out.",
    responses: adminResponses(
      { 200: { description: "text/csv", content: { "text/csv": { schema: { type: "string" } } } } },
      422,
    ),
  }),
  async (c) =>
    new Response(await exportBloomreachCsv(c.get("deps")), {
      headers: {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": 'attachment; filename="bloomreach-customers.csv"',
        "cache-control": "no-store",
      },
    }),
);
