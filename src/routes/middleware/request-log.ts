/**
 * Gives each request a child of the logger that carries its request id (set by hono/request-id,
 * which runs first), as `c.var.log`, and runs the rest of the request in a log scope with that id,
 * so every line of one request, a service's too, can be found by the id the error body reports.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { type Logger, logger, withLogScope } from "../../lib/logger";
import type { AppEnv } from "./deps";

export const requestLog = createMiddleware<AppEnv>(async (c, next) => {
  c.set("log", logger.child({ requestId: c.get("requestId") }));
  // Services log through the module logger: the scope gives their lines the request id too.
  await withLogScope({ requestId: c.get("requestId") }, next);
});

/** The request's logger, also where the middleware has not run (an error before it). */
export const requestLogger = <E extends AppEnv>(c: Context<E>): Logger =>
  (c.var.log as Logger | undefined) ??
  logger.child({ requestId: (c.var.requestId as string | undefined) ?? "unknown" });
