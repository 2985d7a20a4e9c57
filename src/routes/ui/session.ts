/**
 * The admin UI's session: an HMAC-signed cookie holding a random session id, an expiry and the
 * session's CSRF token, and a D1 row per session id (its digest), so that logging out ends the
 * session on the server: a copy of the cookie replayed afterwards finds no row. The signing key is
 * derived from ADMIN_TOKEN, so rotating the token also ends every session. A short-lived login
 * cookie carries the login form's own CSRF token, because there is no session yet to hold it; it
 * stays stateless (it grants nothing but the right to try the admin token).
 */
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import { deleteSession, insertSession, isSessionLive } from "../../db/session-queries";
import { fromBase64Url, sha256Hex, toBase64, utf8 } from "../../lib/encoding";
import type { Session, UiContext } from "./context";

export const SESSION_SECONDS = 12 * 60 * 60;
const LOGIN_FORM_SECONDS = 30 * 60;

interface CookieValue {
  /** Expiry, Unix seconds (checked here too: a cookie's Max-Age is only the browser's promise). */
  exp: number;
  csrf: string;
  /** The session id (session cookies only); D1 keeps its SHA-256. */
  sid?: string;
}

type Purpose = "session" | "login";

const derivedKeys = new Map<string, Promise<ArrayBuffer>>();

/** HMAC(ADMIN_TOKEN, label): a key for cookies that is useless as an admin token if it leaks. */
function signingKey(adminToken: string): Promise<ArrayBuffer> {
  let key = derivedKeys.get(adminToken);
  if (!key) {
    key = crypto.subtle
      .importKey("raw", utf8(adminToken), { name: "HMAC", hash: "SHA-256" }, false, ["sign"])
      .then((k) => crypto.subtle.sign("HMAC", k, utf8("antavo-bloomreach-relay admin-ui cookie v1")));
    derivedKeys.set(adminToken, key);
  }
  return key;
}

const toBase64Url = (bytes: Uint8Array) => toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

export const randomToken = (): string => toBase64Url(crypto.getRandomValues(new Uint8Array(32)));

const isHttps = (c: UiContext) => new URL(c.req.url).protocol === "https:";

/** `__Host-` pins the cookie to this origin (Secure, Path=/, no Domain); plain http (local dev) cannot use it. */
const cookieName = (c: UiContext, purpose: Purpose) => `${isHttps(c) ? "__Host-" : ""}relay_${purpose}`;

async function writeCookie(c: UiContext, purpose: Purpose, value: CookieValue, maxAge: number) {
  const token = c.get("deps").adminToken;
  if (!token) return;
  // The purpose is inside the signed value too, so a login cookie never passes as a session.
  const text = toBase64Url(utf8(JSON.stringify({ ...value, p: purpose })));
  await setSignedCookie(c, cookieName(c, purpose), text, await signingKey(token), {
    path: "/",
    httpOnly: true,
    secure: isHttps(c),
    sameSite: "Strict",
    maxAge,
  });
}

async function readCookie(c: UiContext, purpose: Purpose): Promise<CookieValue | undefined> {
  const token = c.get("deps").adminToken;
  if (!token) return undefined;
  const value = await getSignedCookie(c, await signingKey(token), cookieName(c, purpose));
  if (!value) return undefined;
  try {
    const parsed = JSON.parse(new TextDecoder().decode(fromBase64Url(value))) as Partial<CookieValue> & { p?: string };
    if (parsed.p !== purpose || typeof parsed.exp !== "number" || typeof parsed.csrf !== "string") return undefined;
    if (parsed.exp <= c.get("deps").now()) return undefined;
    return { exp: parsed.exp, csrf: parsed.csrf, ...(typeof parsed.sid === "string" ? { sid: parsed.sid } : {}) };
  } catch {
    return undefined;
  }
}

/** The session of a signed, unexpired cookie whose id is still in D1 (not logged out). */
export async function readSession(c: UiContext): Promise<Session | undefined> {
  const cookie = await readCookie(c, "session");
  if (!cookie?.sid) return undefined;
  const { db, now } = c.get("deps");
  if (!(await isSessionLive(db, await sha256Hex(cookie.sid), now()))) return undefined;
  return { id: cookie.sid, exp: cookie.exp, csrf: cookie.csrf };
}

export async function startSession(c: UiContext): Promise<void> {
  const { db, now } = c.get("deps");
  const sid = randomToken();
  const createdAt = now();
  const exp = createdAt + SESSION_SECONDS;
  await insertSession(db, { id: await sha256Hex(sid), createdAt, expiresAt: exp });
  await writeCookie(c, "session", { exp, csrf: randomToken(), sid }, SESSION_SECONDS);
  deleteCookie(c, cookieName(c, "login"), { path: "/", secure: isHttps(c) });
}

/** Ends the session on the server (its row is deleted) and in the browser. */
export async function endSession(c: UiContext, session: Session | undefined): Promise<void> {
  if (session) await deleteSession(c.get("deps").db, await sha256Hex(session.id));
  deleteCookie(c, cookieName(c, "session"), { path: "/", secure: isHttps(c) });
}

/** The login form's CSRF token: reuses a still-valid login cookie so two open tabs both work. */
export async function loginFormToken(c: UiContext): Promise<string> {
  const existing = await readCookie(c, "login");
  if (existing) return existing.csrf;
  const csrf = randomToken();
  await writeCookie(c, "login", { exp: c.get("deps").now() + LOGIN_FORM_SECONDS, csrf }, LOGIN_FORM_SECONDS);
  return csrf;
}

export const readLoginForm = (c: UiContext) => readCookie(c, "login");
