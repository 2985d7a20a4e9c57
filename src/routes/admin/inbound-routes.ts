/** Admin JSON API for the other direction (DESIGN 4.4): the inbound rules and their "Try it". */
import { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { InboundRuleSchema, InboundRulesSchema } from "../../domain/inbound-rules";
import { getAntavoConnection } from "../../services/config";
import { getInboundRules, previewInbound, putInboundRules } from "../../services/inbound";
import type { AppEnv } from "../middleware/deps";
import { ADMIN, adminResponses, answer, createRoute, mount } from "../openapi";
import { BloomreachEventSchema } from "../webhook/bloomreach-schema";

const InboundRules = InboundRulesSchema.openapi("InboundRules");
export const InboundPreviewSchema = z.object({
  event: BloomreachEventSchema,
  /** Rules to try instead of the saved ones (the page tries its form before saving). */
  rules: z.array(InboundRuleSchema).max(200).optional(),
});

export const inboundRoutes = new OpenAPIHono<AppEnv>();

mount(
  inboundRoutes,
  createRoute({
    method: "get",
    path: "/inbound",
    ...ADMIN,
    summary: "Inbound rules: Bloomreach event type -> Antavo event",
    responses: adminResponses({ 200: answer("`{rules: [{eventType, antavoAction, data}]}`") }),
  }),
  async (c) => c.json(await getInboundRules(c.get("deps"))),
);
mount(
  inboundRoutes,
  createRoute({
    method: "put",
    path: "/inbound",
    ...ADMIN,
    summary: "Replace the inbound rules",
    request: { body: { content: { "application/json": { schema: InboundRules } }, required: true } },
    responses: adminResponses({ 200: answer("the saved rules") }, 400),
  }),
  async (c) => c.json(await putInboundRules(c.get("deps"), c.req.valid("json"))),
);
mount(
  inboundRoutes,
  createRoute({
    method: "post",
    path: "/inbound/preview",
    ...ADMIN,
    summary: "Try it: the Antavo request a Bloomreach body would make (sends and stores nothing)",
    request: {
      body: {
        content: { "application/json": { schema: InboundPreviewSchema.openapi("InboundPreview") } },
        required: true,
      },
    },
    responses: adminResponses(
      { 200: answer("`{rule, customer, request: {method, url, headers, body}, warnings}`") },
      400,
      422,
    ),
  }),
  async (c) => {
    const deps = c.get("deps");
    const { event, rules } = c.req.valid("json");
    const antavo = await getAntavoConnection(deps);
    return c.json(
      await previewInbound({ ...deps, ...(antavo.configured ? { antavoBaseUrl: antavo.baseUrl } : {}) }, event, rules),
    );
  },
);
