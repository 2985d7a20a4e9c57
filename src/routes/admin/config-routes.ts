/** Admin JSON API: connections, mapping, settings and preview. */
import { Hono } from "hono";
import { MappingSchema, SettingsSchema } from "../../domain/config";
import { normaliseEvent } from "../../domain/normalise";
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
import type { AppEnv } from "../middleware/deps";
import { validate } from "../validation";
import { AntavoConnectionSchema, BloomreachConnectionSchema, PreviewSchema } from "./schemas";

export const configRoutes = new Hono<AppEnv>()
  .get("/connection", async (c) => c.json(await getBloomreachConnection(c.get("deps"))))
  .put("/connection", validate("json", BloomreachConnectionSchema), async (c) =>
    c.json(await saveBloomreachConnection(c.get("deps"), c.req.valid("json"))),
  )
  .post("/connection/test", async (c) => c.json(await testBloomreachConnection(c.get("deps"))))
  .get("/antavo", async (c) => c.json(await getAntavoConnection(c.get("deps"))))
  .put("/antavo", validate("json", AntavoConnectionSchema), async (c) =>
    c.json(await putAntavoConnection(c.get("deps"), c.req.valid("json"))),
  )
  .get("/mapping", async (c) => c.json(await getMapping(c.get("deps"))))
  .put("/mapping", validate("json", MappingSchema), async (c) =>
    c.json(await putMapping(c.get("deps"), c.req.valid("json"))),
  )
  .get("/settings", async (c) => c.json(await getSettings(c.get("deps"))))
  .put("/settings", validate("json", SettingsSchema), async (c) =>
    c.json(await putSettings(c.get("deps"), c.req.valid("json"))),
  )
  .post("/preview", validate("json", PreviewSchema), async (c) => {
    const deps = c.get("deps");
    const { event, customer, workflowId } = c.req.valid("json");
    const { event: normalised } = await normaliseEvent(event, deps.now(), 0);
    return c.json(await previewEvent(deps, normalised, { customer, workflowId }));
  });
