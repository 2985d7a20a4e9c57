/** Builds the request's dependencies once from the composition root and exposes them as `c.var.deps`. */
import { createMiddleware } from "hono/factory";
import { createDeps, type RelayDeps } from "../../composition";
import type { Logger } from "../../lib/logger";

export type AppEnv = { Bindings: Env; Variables: { deps: RelayDeps; requestId: string; log: Logger } };

export const provideDeps = (build: (env: Env) => RelayDeps = createDeps) =>
  createMiddleware<AppEnv>(async (c, next) => {
    c.set("deps", build(c.env));
    await next();
  });
