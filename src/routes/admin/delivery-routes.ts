/** Admin JSON API: the delivery log and replays. */
import { Hono } from "hono";
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
import { validate } from "../validation";

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

export const deliveryRoutes = new Hono<AppEnv>()
  .get("/deliveries", validate("query", ListQuerySchema), async (c) =>
    c.json(await listDeliveries(c.get("deps").db, c.req.valid("query"))),
  )
  .post("/deliveries/replay", validate("json", ReplaySchema), async (c) =>
    c.json(await replayDeliveries(c.get("deps"), c.req.valid("json"))),
  )
  .get("/deliveries/:id", async (c) => c.json(await getDelivery(c.get("deps").db, c.req.param("id"))))
  .post("/deliveries/:id/replay", async (c) => c.json(await replayDelivery(c.get("deps"), c.req.param("id")), 202));
