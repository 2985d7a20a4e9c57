/**
 * The admin UI's Hono environment (with the session it carries) and the per-request values every
 * view needs (CSP nonce, CSRF token, current path), gathered in one place so views take plain props
 * and never a Context.
 *
 * The split: `src/routes/ui` is the UI's transport (routes, form reading, session cookie, CSRF, the
 * redirects and status codes), the only part that sees a Hono Context; `src/ui` is rendering (pages,
 * components, styles, the page script), plain functions of props that know no request. This module
 * is the bottom of `routes/ui`: it imports nothing from its siblings, so they can all import it.
 */
import type { Context } from "hono";
import type { ViewContext } from "../../ui/layout";
import type { AppEnv } from "../middleware/deps";

/** The signed-in session (routes/ui/session.ts reads and writes it). */
export interface Session {
  id: string;
  exp: number;
  csrf: string;
}

export type UiEnv = {
  Bindings: AppEnv["Bindings"];
  Variables: AppEnv["Variables"] & { session: Session; secureHeadersNonce?: string };
};

export type UiContext = Context<UiEnv>;

/** Notices are chosen from this list by key, so a crafted link cannot put words on the page. */
const NOTICES = {
  saved: "Saved.",
  created: "Workflow created (inactive until you activate it).",
  activated: "Workflow activated.",
  "activated-needs-antavo":
    "Workflow activated. It claims Antavo rewards and no Antavo API connection is configured: each claim is retried for a day or two, then ends dead, until the connection is set up under Antavo API.",
  deactivated: "Workflow deactivated.",
  deleted: "Workflow deleted.",
  replayed: "Delivery queued for replay.",
  "logged-out": "You are logged out.",
  expired: "Your session expired. Log in again.",
} as const;

export type NoticeKey = keyof typeof NOTICES;

export const noticeText = (key: string | undefined) => (key && key in NOTICES ? NOTICES[key as NoticeKey] : undefined);

/**
 * What the workflow list says after a template made several workflows: how many, that each waits
 * to be activated, and their names (read from the list, not the link). One keeps the singular.
 */
export function createdNotice(names: readonly string[]): string | undefined {
  if (names.length === 0) return undefined;
  if (names.length === 1) return NOTICES.created;
  return `${names.length} workflows created (inactive until you activate them): ${names.join(", ")}.`;
}

export function viewContext(c: UiContext): ViewContext {
  const notice = noticeText(c.req.query("notice"));
  return {
    nonce: c.get("secureHeadersNonce") ?? "",
    csrf: c.get("session")?.csrf ?? "",
    path: c.req.path,
    environment: c.get("deps").environment,
    ...(notice ? { notice } : {}),
  };
}
