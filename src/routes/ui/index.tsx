/**
 * The admin UI under `/admin`: server-rendered Hono JSX over the same services as the JSON API.
 * Order matters: a strict nonce CSP and no-store first, then the same-origin check for every POST,
 * the public login routes, and only then the session (and CSRF token) guard for everything else.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { NONCE, secureHeaders } from "hono/secure-headers";
import { errorBody, RelayError } from "../../lib/errors";
import { matchesSecret } from "../../lib/secrets";
import { registerAdminAttempt } from "../../services/admin-auth-throttle";
import { MAX_IMPORT_BYTES } from "../../services/customer-import";
import { LoginPage, NotFoundPage, RefusedPage } from "../../ui/pages/login";
import { clientAddress } from "../middleware/client-address";
import { requestLogger } from "../middleware/request-log";
import { configPages } from "./config-pages";
import { noticeText, type UiContext, type UiEnv } from "./context";
import { bodyText, isSameOrigin, tokenMatches } from "./csrf";
import { customerPages } from "./customer-pages";
import { dashboardPage } from "./dashboard-page";
import { deliveryPages } from "./delivery-pages";
import { wantsJson } from "./forms";
import { inboundPages } from "./inbound-pages";
import { endSession, loginFormToken, readLoginForm, readSession, startSession } from "./session";
import { workflowPages } from "./workflow-pages";

const nonceOf = (c: UiContext) => c.get("secureHeadersNonce") ?? "";

/** Only paths inside the admin UI of this origin: `next` must never become an open redirect. */
function safeNext(next: unknown): string {
  if (typeof next !== "string" || !/^\/admin(?:[/?][^\s\\]*)?$/.test(next) || next.startsWith("//")) return "/admin";
  return next;
}

function refuse(c: UiContext, reason: string) {
  if (wantsJson(c)) return c.json(errorBody("forbidden", reason, c.get("requestId")), 403);
  return c.html(<RefusedPage nonce={nonceOf(c)} reason={reason} />, 403);
}

export const adminUi = new Hono<UiEnv>();

// The UI's own security headers. Referrer-Policy is same-origin, not no-referrer: under no-referrer
// browsers send `Origin: null` on form posts, and the CSRF check reads the Origin.
adminUi.use(
  secureHeaders({
    referrerPolicy: "same-origin",
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: [NONCE],
      styleSrc: [NONCE],
      imgSrc: ["'self'", "data:"],
      connectSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
  }),
);

adminUi.use(async (c, next) => {
  // Pages carry configuration and customer data: keep them out of shared and back-button caches.
  await next();
  c.header("Cache-Control", "no-store");
});

// Form posts are small; the customer import (a file) may be as large as the API's import
// (invariant 8: no body, however large, is read whole into memory without a bound).
const MAX_FORM_BYTES = 1024 * 1024;
const limitBody = (maxSize: number) =>
  bodyLimit({
    maxSize,
    onError: () => {
      throw new RelayError("payload_too_large", `the form is larger than ${maxSize} bytes`);
    },
  });
const limitForm = limitBody(MAX_FORM_BYTES);
const limitImport = limitBody(MAX_IMPORT_BYTES);
adminUi.use(async (c, next) => {
  if (c.req.method !== "POST") return next();
  return (c.req.path === "/admin/customers/import" ? limitImport : limitForm)(c, next);
});

adminUi.use(async (c, next) => {
  if (c.req.method === "POST" && !isSameOrigin(c))
    return refuse(c, "This form was posted from another site, so it was refused.");
  await next();
});

adminUi.get("/login", async (c) => {
  if (await readSession(c)) return c.redirect(safeNext(c.req.query("next")), 303);
  return c.html(
    <LoginPage
      nonce={nonceOf(c)}
      csrf={await loginFormToken(c)}
      next={safeNext(c.req.query("next"))}
      configured={Boolean(c.get("deps").adminToken)}
      notice={noticeText(c.req.query("notice"))}
    />,
  );
});

adminUi.post("/login", async (c) => {
  const form = new URLSearchParams(await bodyText(c));
  const next = safeNext(form.get("next"));
  const adminToken = c.get("deps").adminToken;
  const loginForm = await readLoginForm(c);
  const again = async (error: string, status: 401 | 403 | 429, headers?: Record<string, string>) =>
    c.html(
      <LoginPage
        nonce={nonceOf(c)}
        csrf={await loginFormToken(c)}
        next={next}
        error={error}
        configured={Boolean(adminToken)}
      />,
      status,
      headers,
    );
  if (!(await tokenMatches(c, loginForm?.csrf))) return again("The login form expired. Please try again.", 403);
  const given = form.get("token") ?? "";
  // Compare even when no token is configured, so the answer takes the same time either way.
  const matches = await matchesSecret(given, adminToken ?? "");
  if (!adminToken) return again("That admin token is not valid.", 401);
  // Shares the API's budget per address: both guess the same token (services/admin-auth-throttle).
  const verdict = await registerAdminAttempt(c.get("deps"), clientAddress(c), !matches);
  if (!verdict.allowed) {
    const minutes = Math.ceil(verdict.retryAfterSeconds / 60);
    return again(`Too many failed attempts from your address. Try again in ${minutes} minute(s).`, 429, {
      "Retry-After": String(verdict.retryAfterSeconds),
    });
  }
  if (!matches) return again("That admin token is not valid.", 401);
  await startSession(c);
  return c.redirect(next, 303);
});

adminUi.use(async (c, next) => {
  const session = await readSession(c);
  if (!session) {
    if (c.req.method === "GET" || c.req.method === "HEAD") {
      const url = new URL(c.req.url);
      return c.redirect(`/admin/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
    }
    if (wantsJson(c))
      return c.json(errorBody("unauthorized", "the admin session expired; log in again", c.get("requestId")), 401);
    return c.redirect("/admin/login?notice=expired", 303);
  }
  c.set("session", session);
  if (c.req.method === "POST" && !(await tokenMatches(c, session.csrf))) {
    return refuse(
      c,
      "The form's security token is missing or out of date. Go back, reload the page and submit it again.",
    );
  }
  await next();
});

adminUi.post("/logout", async (c) => {
  await endSession(c, c.get("session"));
  return c.redirect("/admin/login?notice=logged-out", 303);
});

adminUi.get("/", dashboardPage);
adminUi.route("/", configPages);
adminUi.route("/", workflowPages);
adminUi.route("/", deliveryPages);
adminUi.route("/", customerPages);
adminUi.route("/", inboundPages);
adminUi.all("*", (c) => c.html(<NotFoundPage nonce={nonceOf(c)} />, 404));

adminUi.onError((error, c) => {
  const requestId = c.get("requestId") ?? "unknown";
  const relay = error instanceof RelayError ? error : undefined;
  if (!relay || relay.status >= 500) requestLogger(c).error(error.message, { code: relay?.code ?? "internal" });
  const status = relay?.status ?? 500;
  const message = relay && relay.status < 500 ? relay.message : `Something went wrong (request ${requestId}).`;
  if (wantsJson(c)) return c.json(errorBody(relay?.code ?? "internal", message, requestId, relay?.issues), status);
  if (status === 404) return c.html(<NotFoundPage nonce={nonceOf(c)} />, 404);
  return c.html(<RefusedPage nonce={nonceOf(c)} reason={message} />, status);
});
