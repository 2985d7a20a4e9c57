/** Admin JSON API: the delivery log and replays. */
import { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { DELIVERY_STATUSES, type DeliveryStatus } from "../../db/delivery-queries";
import {
  getDelivery,
  listDeliveries,
  REPLAYABLE_STATUSES,
  replayDeliveries,
  replayDelivery,
} from "../../services/deliveries";
import type { AppEnv } from "../middleware/deps";
import { ADMIN, adminResponses, answer, createRoute, idParam, mount } from "../openapi";

/** Unix seconds or an ISO-8601 date-time in a query string. */
const instant = z
  .string()
  .trim()
  .transform((value, ctx) => {
    const seconds = /^\d+$/.test(value) ? Number(value) : Date.parse(value) / 1000;
    if (!Number.isFinite(seconds)) {
      ctx.addIssue({ code: "custom", message: "must be Unix seconds or an ISO-8601 date-time" });
      return z.NEVER;
    }
    return Math.floor(seconds);
  });

const ListQuerySchema = z.object({
  status: z.enum(DELIVERY_STATUSES as [DeliveryStatus, ...DeliveryStatus[]]).optional(),
  customer: z.string().trim().min(1).optional(),
  since: instant.optional(),
  until: instant.optional(),
  cursor: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const ReplaySchema = z.object({
  status: z
    .enum(REPLAYABLE_STATUSES, { error: "only dead or outcome_unknown deliveries can be replayed" })
    .default("dead"),
  since: z.union([z.number().int(), instant]).optional(),
  until: z.union([z.number().int(), instant]).optional(),
});

export const deliveryRoutes = new OpenAPIHono<AppEnv>();

mount(
  deliveryRoutes,
  createRoute({
    method: "get",
    path: "/deliveries",
    ...ADMIN,
    summary: "Delivery log, newest first",
    request: { query: ListQuerySchema },
    responses: adminResponses({ 200: answer("`{items, nextCursor}`") }, 400),
  }),
  async (c) => c.json(await listDeliveries(c.get("deps").db, c.req.valid("query"))),
);
mount(
  deliveryRoutes,
  createRoute({
    method: "post",
    path: "/deliveries/replay",
    ...ADMIN,
    summary: "Replay dead deliveries in a window, a page per call: `{replayed, remaining}`",
    request: { body: { content: { "application/json": { schema: ReplaySchema } } } },
    responses: adminResponses({ 200: answer("`{replayed, remaining}`") }, 400),
  }),
  async (c) => c.json(await replayDeliveries(c.get("deps"), c.req.valid("json"))),
);
mount(
  deliveryRoutes,
  createRoute({
    method: "get",
    path: "/deliveries/{id}",
    ...ADMIN,
    summary: "One delivery with its commands and attempts",
    request: { params: idParam("the delivery (= event) id") },
    responses: adminResponses({ 200: answer("the delivery") }, 404),
  }),
  async (c) => c.json(await getDelivery(c.get("deps").db, c.req.valid("param").id)),
);
mount(
  deliveryRoutes,
  createRoute({
    method: "post",
    path: "/deliveries/{id}/replay",
    ...ADMIN,
    summary: "Replay a dead delivery",
    request: { params: idParam("the delivery (= event) id") },
    responses: adminResponses({ 202: answer("`{id, replayed}`") }, 404, 409),
  }),
  async (c) => c.json(await replayDelivery(c.get("deps"), c.req.valid("param").id), 202),
);
