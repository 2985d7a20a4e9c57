/** Admin JSON API: the delivery log and replays. */
import { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { DELIVERY_STATUSES, type DeliveryStatus } from "../../db/delivery-queries";
import { DIRECTIONS, type Direction } from "../../domain/event";
import { parseUnixTime } from "../../domain/workflow/calendar";
import {
  getDelivery,
  listDeliveries,
  REPLAYABLE_STATUSES,
  replayDeliveries,
  replayDelivery,
} from "../../services/deliveries";
import type { AppEnv } from "../middleware/deps";
import { ADMIN, adminResponses, answer, createRoute, idParam, mount } from "../openapi";

/**
 * A window bound: Unix seconds or milliseconds (a number in the replay body, numeric text in a query
 * string) or an ISO-8601 date-time, read like an event time (domain/workflow/calendar) so a bound
 * copied from an event or a log line means the same instant; 0 means "from the beginning".
 */
export const instant = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const seconds = parseUnixTime(value);
  if (seconds === undefined) {
    ctx.addIssue({ code: "custom", message: "must be Unix seconds, milliseconds or an ISO-8601 date-time" });
    return z.NEVER;
  }
  return seconds;
});

const direction = z.enum(DIRECTIONS as [Direction, ...Direction[]]);

/** An exact-match search term; blank means "any", as in the UI's search form. */
const term = z
  .string()
  .trim()
  .max(200)
  .optional()
  .transform((value) => (value === "" ? undefined : value));

const ListQuerySchema = z.object({
  status: z.enum(DELIVERY_STATUSES as [DeliveryStatus, ...DeliveryStatus[]]).optional(),
  direction: direction.optional(),
  /** Exact matches, each on an indexed column except `remoteEvent` (read from the commands). */
  eventId: term,
  customer: z.string().trim().min(1).max(200).optional(),
  action: term,
  remoteEvent: term,
  since: instant.optional(),
  until: instant.optional(),
  cursor: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const ReplaySchema = z.object({
  status: z
    .enum(REPLAYABLE_STATUSES, { error: "only dead or outcome_unknown deliveries can be replayed" })
    .default("dead"),
  direction: direction.optional(),
  since: instant.optional(),
  until: instant.optional(),
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
