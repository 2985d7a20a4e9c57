/** Admin JSON API: connections, mapping, settings and preview. */
import { OpenAPIHono } from "@hono/zod-openapi";
import { MappingSchema, SettingsSchema } from "../../domain/config";
import { normaliseEvent } from "../../domain/normalise";
import { RelayError } from "../../lib/errors";
import { saveBloomreachConnection, testBloomreachConnection } from "../../services/bloomreach-connection";
import {
  getAntavoConnection,
  getBloomreachConnection,
  getMapping,
  getSettings,
  putAntavoConnection,
  putMapping,
  putSettings,
} from "../../services/config";
import { previewEvent } from "../../services/preview";
import { parseAdminJson } from "../middleware/admin-body";
import type { AppEnv } from "../middleware/deps";
import { ADMIN, adminResponses, answer, createRoute, mount } from "../openapi";
import { zodIssues } from "../validation";
import { AntavoConnectionSchema, BloomreachConnectionSchema, PreviewSchema } from "./schemas";

const jsonBody = <S>(schema: S) => ({ body: { content: { "application/json": { schema } }, required: true } });

const Mapping = MappingSchema.openapi("Mapping");
const Settings = SettingsSchema.openapi("Settings");
const BloomreachConnection = BloomreachConnectionSchema.openapi("BloomreachConnection");
const AntavoConnection = AntavoConnectionSchema.openapi("AntavoConnection");
const Preview = PreviewSchema.openapi("Preview");

export const configRoutes = new OpenAPIHono<AppEnv>();

mount(
  configRoutes,
  createRoute({
    method: "get",
    path: "/connection",
    ...ADMIN,
    summary: "Bloomreach connection (the secret is only reported as set)",
    responses: adminResponses({ 200: answer("the connection") }),
  }),
  async (c) => c.json(await getBloomreachConnection(c.get("deps"))),
);
mount(
  configRoutes,
  createRoute({
    method: "put",
    path: "/connection",
    ...ADMIN,
    summary: "Save the Bloomreach connection; resumes paused delivery",
    request: jsonBody(BloomreachConnection),
    responses: adminResponses({ 200: answer("the saved connection") }, 400),
  }),
  async (c) => c.json(await saveBloomreachConnection(c.get("deps"), c.req.valid("json"))),
);
mount(
  configRoutes,
  createRoute({
    method: "post",
    path: "/connection/test",
    ...ADMIN,
    summary:
      "Reachability, credentials and permissions, each with its reason; of the saved connection, or of the connection in the body (not saved; no apiSecret means the saved one)",
    // No `request.body`: the route's validator would refuse the empty body that tests the saved connection.
    responses: adminResponses({ 200: answer("each check with its verdict") }, 400),
  }),
  async (c) => c.json(await testBloomreachConnection(c.get("deps"), optionalConnection(await c.req.text()))),
);
/**
 * The test's body is optional: an empty one (clients have always sent none, some with a JSON
 * content type) tests the saved connection. So it is read here rather than by the route's validator.
 */
function optionalConnection(raw: string) {
  const text = raw.trim();
  if (text === "") return undefined;
  const parsed = BloomreachConnectionSchema.safeParse(parseAdminJson(text));
  if (!parsed.success) throw new RelayError("validation_failed", "the json is not valid", zodIssues(parsed.error));
  return parsed.data;
}
mount(
  configRoutes,
  createRoute({
    method: "get",
    path: "/antavo",
    ...ADMIN,
    summary: "Antavo API connection",
    responses: adminResponses({ 200: answer("the connection") }),
  }),
  async (c) => c.json(await getAntavoConnection(c.get("deps"))),
);
mount(
  configRoutes,
  createRoute({
    method: "put",
    path: "/antavo",
    ...ADMIN,
    summary: "Save the Antavo API connection",
    request: jsonBody(AntavoConnection),
    responses: adminResponses({ 200: answer("the saved connection") }, 400),
  }),
  async (c) => c.json(await putAntavoConnection(c.get("deps"), c.req.valid("json"))),
);
mount(
  configRoutes,
  createRoute({
    method: "get",
    path: "/mapping",
    ...ADMIN,
    summary: "Hard ID and field mappings",
    responses: adminResponses({ 200: answer("the mapping") }),
  }),
  async (c) => c.json(await getMapping(c.get("deps"))),
);
mount(
  configRoutes,
  createRoute({
    method: "put",
    path: "/mapping",
    ...ADMIN,
    summary: "Replace the mapping (the hard ID is set once)",
    request: jsonBody(Mapping),
    responses: adminResponses({ 200: answer("the saved mapping") }, 400, 409),
  }),
  async (c) => c.json(await putMapping(c.get("deps"), c.req.valid("json"))),
);
mount(
  configRoutes,
  createRoute({
    method: "get",
    path: "/settings",
    ...ADMIN,
    summary: "Async sync and event synchronisation",
    responses: adminResponses({ 200: answer("the settings") }),
  }),
  async (c) => c.json(await getSettings(c.get("deps"))),
);
mount(
  configRoutes,
  createRoute({
    method: "put",
    path: "/settings",
    ...ADMIN,
    summary: "Replace the settings",
    request: jsonBody(Settings),
    responses: adminResponses({ 200: answer("the saved settings") }, 400),
  }),
  async (c) => c.json(await putSettings(c.get("deps"), c.req.valid("json"))),
);
mount(
  configRoutes,
  createRoute({
    method: "post",
    path: "/preview",
    ...ADMIN,
    summary: "The commands and actions an event would produce; no side effects",
    request: jsonBody(Preview),
    responses: adminResponses({ 200: answer("the planned commands and actions") }, 400),
  }),
  async (c) => {
    const deps = c.get("deps");
    const { event, customer, workflowId } = c.req.valid("json");
    const { event: normalised } = await normaliseEvent(event, deps.now(), 0);
    return c.json(await previewEvent(deps, normalised, { customer, workflowId }));
  },
);
