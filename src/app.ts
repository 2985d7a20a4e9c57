/**
 * The Hono application: routes, request ids, secure headers and the one error envelope.
 * Every failure leaves as {"error": {code, message, issues?, requestId}}.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { RelayDeps } from "./composition";
import { type ErrorCode, errorBody, RelayError } from "./lib/errors";
import { errorMessage } from "./lib/logger";
import { backfillRoutes } from "./routes/admin/backfill-routes";
import { configRoutes } from "./routes/admin/config-routes";
import { customerRoutes } from "./routes/admin/customer-routes";
import { deliveryRoutes } from "./routes/admin/delivery-routes";
import { inboundRoutes } from "./routes/admin/inbound-routes";
import { workflowRoutes } from "./routes/admin/workflow-routes";
import { adminAuth } from "./routes/middleware/admin-auth";
import { adminBody } from "./routes/middleware/admin-body";
import { type AppEnv, provideDeps } from "./routes/middleware/deps";
import { requestLog, requestLogger } from "./routes/middleware/request-log";
import { answer, createRoute, mount, openApiDocument } from "./routes/openapi";
import { adminUi } from "./routes/ui";
import { webhookRoutes } from "./routes/webhook/route";

function httpExceptionCode(status: number): ErrorCode {
  if (status === 401) return "unauthorized";
  if (status === 404) return "not_found";
  if (status === 413) return "payload_too_large";
  if (status === 415) return "unsupported_media_type";
  if (status >= 500) return "internal";
  return "invalid_body";
}

export function createApp(buildDeps?: (env: Env) => RelayDeps) {
  const app = new OpenAPIHono<AppEnv>();
  app.use(requestId());
  app.use(requestLog);
  // Browser-facing hardening for the JSON API; the UI sets its own (with a CSP), and the webhook
  // answers a machine, where the headers would only cost time on the hot path.
  app.use("/api/*", secureHeaders());
  app.use(provideDeps(buildDeps));

  mount(
    app,
    createRoute({
      method: "get",
      path: "/healthz",
      summary: "Liveness",
      responses: { 200: answer("`{ok, environment}`") },
    }),
    (c) => c.json({ ok: true, environment: c.get("deps").environment }),
  );
  app.route("/webhooks", webhookRoutes);
  // The contract document is public; everything else under /api needs the admin token.
  mount(
    app,
    createRoute({
      method: "get",
      path: "/api/openapi.json",
      summary: "This document",
      responses: { 200: answer("the OpenAPI 3.1 document") },
    }),
    (c) => c.json(openApiDocument(app)),
  );
  app.use("/api/*", adminAuth);
  app.use("/api/*", adminBody);
  app.route("/api", configRoutes);
  app.route("/api", deliveryRoutes);
  app.route("/api", workflowRoutes);
  app.route("/api", customerRoutes);
  app.route("/api", inboundRoutes);
  app.route("/api", backfillRoutes);
  // The admin UI: its own session cookie, CSRF checks, CSP and HTML errors (routes/ui).
  app.route("/admin", adminUi);

  app.notFound((c) =>
    c.json(errorBody("not_found", `no route for ${c.req.method} ${c.req.path}`, c.get("requestId")), 404),
  );
  app.onError((error, c) => {
    const id = c.get("requestId") ?? "unknown";
    if (error instanceof RelayError) {
      if (error.status >= 500) requestLogger(c).error(error.message, { code: error.code });
      return c.json(errorBody(error.code, error.message, id, error.issues), error.status);
    }
    if (error instanceof HTTPException) {
      const code = httpExceptionCode(error.status);
      return c.json(errorBody(code, error.message || code, id), error.status);
    }
    // Unknown failures: log the message only (never request bodies, which may carry secrets).
    requestLogger(c).error(errorMessage(error), { code: "internal" });
    return c.json(errorBody("internal", "internal error", id), 500);
  });
  return app;
}
