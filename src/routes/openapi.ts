/**
 * `GET /api/openapi.json`: the public contracts as OpenAPI 3.1, generated (@hono/zod-openapi) from
 * the route definitions the relay serves, so a route cannot be served without being documented and
 * the request schemas in the document are the ones that guard the routes.
 *
 * Routes are mounted with `mount(app, createRoute({...}), handler)` rather than `app.openapi(...)`:
 * the route's `request` (params, query, JSON body) is validated with the relay's own `validate`
 * (routes/validation.ts), which answers the one error body (400 `validation_failed` with issues)
 * and reads a body of another media type as `{}` like every zValidator route did, where
 * `app.openapi` would add a 415 gate of its own. A route whose body is checked further in (the
 * webhook parses JSON or forms itself; a workflow document is checked by the domain) says so with
 * `jsonBody`.
 */
import { createRoute, type OpenAPIHono, type RouteConfig, type RouteHandler, z } from "@hono/zod-openapi";
import type { Handler, MiddlewareHandler } from "hono";
import type { AppEnv } from "./middleware/deps";
import { validate } from "./validation";

export { createRoute, z };

const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
      requestId: z.string(),
    }),
  })
  .openapi("Error");

/** The error envelope for each status, e.g. `...errorResponses(400, 401)`. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: "the error envelope", content: { "application/json": { schema: ErrorBodySchema } } },
    ]),
  );

/** A documented JSON answer without a schema of its own (the README describes the fields). */
export const answer = (description: string) => ({ description });

/** What every admin API route requires, and what it can answer whatever the route. */
export const ADMIN = { security: [{ adminToken: [] }] };
const ADMIN_ERRORS = errorResponses(401, 429);
export const adminResponses = (responses: RouteConfig["responses"], ...statuses: number[]) => ({
  ...responses,
  ...errorResponses(...statuses),
  ...ADMIN_ERRORS,
});

export const idParam = (name: string) => z.object({ id: z.string().openapi({ description: name }) });

/** The handler's context as the route's request makes it (`c.req.valid(...)` typed). */
type RouteContext<R extends RouteConfig> = Parameters<RouteHandler<R, AppEnv>>[0];

const isZod = (value: unknown): value is z.ZodType =>
  typeof value === "object" && value !== null && typeof (value as z.ZodType).safeParse === "function";

/**
 * Documents `route` on `app` and serves it: the route's middleware, then the validators of its
 * request, then the handler. `jsonBody`: the schema the body is validated with when it is not the
 * documented one, or `false` when the handler reads the body itself.
 */
export function mount<R extends RouteConfig>(
  app: OpenAPIHono<AppEnv>,
  route: R,
  handler: (c: RouteContext<R>) => Response | Promise<Response>,
  options: { jsonBody?: z.ZodType | false } = {},
): void {
  const { middleware, hide: _, ...documented } = route;
  app.openAPIRegistry.registerPath(documented);
  const request = route.request;
  const media = request?.body && "content" in request.body ? request.body.content["application/json"] : undefined;
  const documentedBody = media && "schema" in media ? media.schema : undefined;
  const body = options.jsonBody === undefined ? documentedBody : options.jsonBody;
  const handlers: MiddlewareHandler[] = [
    ...(middleware ? [middleware].flat() : []),
    ...(request?.params ? [validate("param", request.params)] : []),
    ...(request?.query ? [validate("query", request.query)] : []),
    ...(isZod(body) ? [validate("json", body)] : []),
  ];
  app.on(
    [route.method.toUpperCase()],
    [route.path.replaceAll(/\{(\w+)\}/g, ":$1")],
    ...handlers,
    handler as unknown as Handler<AppEnv>,
  );
}

const SECURITY_SCHEMES = {
  adminToken: {
    type: "http",
    scheme: "bearer",
    description:
      "ADMIN_TOKEN. After 10 wrong tokens (API or UI login) from one address within 15 minutes, every call from it answers 429 too_many_requests with Retry-After until the oldest failure is 15 minutes old.",
  },
  webhookBasic: { type: "http", scheme: "basic", description: "WEBHOOK_BASIC_USER / WEBHOOK_BASIC_PASSWORD" },
  bloomreachWebhook: {
    type: "http",
    scheme: "bearer",
    description: "BLOOMREACH_WEBHOOK_TOKEN, sent by a Bloomreach scenario's Webhook node",
  },
  webhookJwt: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT (HS256 with WEBHOOK_JWT_SECRET, RS256 with WEBHOOK_JWT_PUBLIC_KEY)",
  },
} as const;

const INFO = {
  title: "antavo-bloomreach-relay",
  version: "1",
  description: "Antavo loyalty webhooks in, Bloomreach Engagement commands out. See the README for semantics.",
};

const documents = new WeakMap<OpenAPIHono<AppEnv>, unknown>();

/** The document of every route mounted on `app` (and the apps routed under it), built once per app. */
export function openApiDocument(app: OpenAPIHono<AppEnv>) {
  let document = documents.get(app);
  if (!document) {
    for (const [name, scheme] of Object.entries(SECURITY_SCHEMES))
      app.openAPIRegistry.registerComponent("securitySchemes", name, scheme);
    document = app.getOpenAPI31Document({ openapi: "3.1.0", info: INFO });
    documents.set(app, document);
  }
  return document;
}
