/** Admin JSON API: the delivery log and replays. */
import { OpenAPIHono } from "@hono/zod-openapi";
import { getDelivery, listDeliveries, replayDeliveries, replayDelivery } from "../../services/deliveries";
import type { AppEnv } from "../middleware/deps";
import { ADMIN, adminResponses, answer, createRoute, idParam, mount } from "../openapi";
import { ListQuerySchema, ReplaySchema } from "./schemas";

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
