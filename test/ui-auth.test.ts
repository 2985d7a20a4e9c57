import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { appWith } from "./support/app";
import { admin, json } from "./support/http";
import { loggedIn, ORIGIN, textOf, UiClient } from "./ui-helpers";

const PAGES = [
  "/admin",
  "/admin/connection",
  "/admin/antavo",
  "/admin/mapping",
  "/admin/settings",
  "/admin/workflows",
  "/admin/workflows/new",
  "/admin/workflows/new/blank",
  "/admin/deliveries",
  "/admin/customers",
];

describe("admin UI authentication", () => {
  it.each(PAGES)("redirects %s to the login page without a session", async (path) => {
    const { status, location } = await new UiClient().get(path);
    expect(status).toBe(303);
    expect(location).toBe(`/admin/login?next=${encodeURIComponent(path)}`);
  });

  it("refuses a POST without a session and changes nothing", async () => {
    const { status, location } = await new UiClient().post(
      "/admin/mapping",
      { "hardId[loyaltyField]": "email", "hardId[remoteId]": "registered" },
      { csrf: "anything" },
    );
    expect(status).toBe(303);
    expect(location).toBe("/admin/login?notice=expired");
    expect((await json(await admin("/mapping"))).hardId).toBeNull();
  });

  it("logs in with the admin token into a signed, HttpOnly, SameSite, Secure session cookie", async () => {
    const client = new UiClient();
    const page = await client.get("/admin/login?next=%2Fadmin%2Fsettings");
    expect(page.status).toBe(200);
    expect(page.html).toContain('name="next" value="/admin/settings"');

    const login = await client.post("/admin/login", { token: "test-admin-token", next: "/admin/settings" });
    expect(login.status).toBe(303);
    expect(login.location).toBe("/admin/settings");
    const cookie = login.response.headers.getAll("set-cookie").find((c) => c.startsWith("__Host-relay_session="))!;
    expect(cookie).toBeDefined();
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/Secure/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Max-Age=43200/i);
    expect(cookie).toMatch(/Path=\//);
    // The cookie is not the admin token, nor does it carry it.
    expect(cookie).not.toContain("test-admin-token");

    const settings = await client.get("/admin/settings");
    expect(settings.status).toBe(200);
    expect(textOf(settings.html)).toContain("Event sync");
  });

  it("refuses a wrong token with a message and no session", async () => {
    const client = new UiClient();
    await client.get("/admin/login");
    const wrong = await client.post("/admin/login", { token: "not-the-token", next: "/admin" });
    expect(wrong.status).toBe(401);
    expect(textOf(wrong.html)).toContain("That admin token is not valid.");
    expect([...client.cookies.keys()]).not.toContain("__Host-relay_session");
    expect((await client.get("/admin")).status).toBe(303);
  });

  it("refuses a login post without the login form's CSRF token", async () => {
    const client = new UiClient();
    const response = await client.post("/admin/login", { token: "test-admin-token" }, { csrf: "made-up" });
    expect(response.status).toBe(403);
    expect([...client.cookies.keys()]).not.toContain("__Host-relay_session");
  });

  it("never redirects outside the admin UI after login", async () => {
    for (const next of ["//evil.example/admin", "https://evil.example/", "/api/connection", "/admin\\@evil"]) {
      const client = new UiClient();
      await client.get("/admin/login");
      const login = await client.post("/admin/login", { token: "test-admin-token", next });
      expect(login.location).toBe("/admin");
    }
  });

  it("rejects a tampered or forged session cookie", async () => {
    const client = await loggedIn();
    const real = client.cookies.get("__Host-relay_session")!;
    const [value, signature] = decodeURIComponent(real).split(".");
    const forged = JSON.stringify({ exp: 9_999_999_999, csrf: "x", p: "session" });
    const forgedValue = btoa(forged).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    for (const cookie of [`${forgedValue}.${signature}`, `${value}.AAAA${signature!.slice(4)}`, "garbage"]) {
      client.cookies.set("__Host-relay_session", encodeURIComponent(cookie));
      expect((await client.get("/admin")).status).toBe(303);
    }
  });

  it("expires the session after 12 hours", async () => {
    const client = await loggedIn();
    const cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    const later = appWith(() => ({ now: () => Math.floor(Date.now() / 1000) + 12 * 3600 + 60 }));
    const response = await later("/admin", { headers: { cookie }, redirect: "manual" });
    expect(response.status).toBe(303);
    const sooner = appWith(() => ({ now: () => Math.floor(Date.now() / 1000) + 11 * 3600 }));
    expect((await sooner("/admin", { headers: { cookie }, redirect: "manual" })).status).toBe(200);
  });

  it("logs out: the cookie is cleared and the pages ask for a login again", async () => {
    const client = await loggedIn();
    const out = await client.post("/admin/logout");
    expect(out.status).toBe(303);
    expect(out.location).toBe("/admin/login?notice=logged-out");
    expect(
      out.response.headers
        .getAll("set-cookie")
        .some((c) => c.startsWith("__Host-relay_session=;") && /Max-Age=0/i.test(c)),
    ).toBe(true);
    expect((await client.get("/admin")).status).toBe(303);
  });

  it("logs out on the server: the cookie replayed after logout opens nothing", async () => {
    const client = await loggedIn();
    const cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    const csrf = client.csrf;
    const replay = (init: RequestInit = {}) =>
      SELF.fetch(`${ORIGIN}/admin`, { ...init, redirect: "manual", headers: { cookie, ...init.headers } });
    expect((await replay()).status).toBe(200);

    expect((await client.post("/admin/logout")).status).toBe(303);

    const page = await replay();
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/admin/login?next=%2Fadmin");
    const settings = await SELF.fetch(`${ORIGIN}/admin/settings`, {
      method: "POST",
      redirect: "manual",
      headers: {
        cookie,
        origin: ORIGIN,
        accept: "application/json",
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ _csrf: csrf, asyncSync: "on" }),
    });
    expect(settings.status).toBe(401);
    // Another session is not ended by this logout.
    const other = await loggedIn();
    expect((await other.get("/admin")).status).toBe(200);
  });

  it("prunes expired sessions when someone logs in", async () => {
    const stale = new UiClient();
    const past = appWith(() => ({ now: () => Math.floor(Date.now() / 1000) - 13 * 3600 }));
    const form = await past("/admin/login", { redirect: "manual" });
    const loginCookie = form.headers
      .getAll("set-cookie")
      .map((c) => c.split(";")[0])
      .join("; ");
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? "";
    const login = await past("/admin/login", {
      method: "POST",
      redirect: "manual",
      headers: { cookie: loginCookie, origin: ORIGIN, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: csrf, token: "test-admin-token", next: "/admin" }),
    });
    expect(login.status).toBe(303);
    const count = async () =>
      (
        await env.DB.prepare("SELECT count(*) AS n FROM admin_sessions WHERE expires_at <= unixepoch()").first<{
          n: number;
        }>()
      )?.n;
    expect(await count()).toBeGreaterThan(0);
    await stale.login();
    expect(await count()).toBe(0);
  });

  it("a session cookie is not an admin API credential, and the API token is not a UI session", async () => {
    const client = await loggedIn();
    const cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    expect((await SELF.fetch(`${ORIGIN}/api/mapping`, { headers: { cookie } })).status).toBe(401);
    expect(
      (
        await SELF.fetch(`${ORIGIN}/admin`, {
          headers: { authorization: "Bearer test-admin-token" },
          redirect: "manual",
        })
      ).status,
    ).toBe(303);
  });
});

describe("admin UI CSRF protection", () => {
  const mappingForm = { "hardId[loyaltyField]": "email", "hardId[remoteId]": "registered" };

  it("rejects a form post without the CSRF token", async () => {
    const client = await loggedIn();
    const response = await client.post("/admin/mapping", mappingForm, { csrf: null });
    expect(response.status).toBe(403);
    expect(textOf(response.html)).toContain("security token is missing or out of date");
    expect((await json(await admin("/mapping"))).hardId).toBeNull();
  });

  it("rejects a form post with a wrong CSRF token, or another session's token", async () => {
    const client = await loggedIn();
    const other = await loggedIn();
    expect(other.csrf).not.toBe(client.csrf);
    expect((await client.post("/admin/mapping", mappingForm, { csrf: "wrong" })).status).toBe(403);
    expect((await client.post("/admin/mapping", mappingForm, { csrf: other.csrf })).status).toBe(403);
    expect((await json(await admin("/mapping"))).hardId).toBeNull();
  });

  it("rejects a cross-origin post even with the right token", async () => {
    const client = await loggedIn();
    expect((await client.post("/admin/mapping", mappingForm, { origin: "https://evil.example" })).status).toBe(403);
    expect(
      (await client.post("/admin/mapping", mappingForm, { origin: null, headers: { "sec-fetch-site": "cross-site" } }))
        .status,
    ).toBe(403);
    expect((await client.post("/admin/logout", {}, { origin: "https://evil.example" })).status).toBe(403);
    expect((await json(await admin("/mapping"))).hardId).toBeNull();
  });

  it("decides an `Origin: null` post by Sec-Fetch-Site", async () => {
    const client = await loggedIn();
    const crossSite = await client.post(
      "/admin/settings",
      { asyncSync: "on" },
      { origin: "null", headers: { "sec-fetch-site": "cross-site" } },
    );
    expect(crossSite.status).toBe(403);
    const sameSite = await client.post(
      "/admin/settings",
      { asyncSync: "on" },
      { origin: "null", headers: { "sec-fetch-site": "same-origin" } },
    );
    expect(sameSite.status).toBe(303);
  });

  it("answers JSON refusals to the page scripts", async () => {
    const client = await loggedIn();
    const response = await client.post(
      "/admin/deliveries/replay",
      {},
      { csrf: "wrong", headers: { accept: "application/json" } },
    );
    expect(response.status).toBe(403);
    expect(JSON.parse(response.html).error.code).toBe("forbidden");
  });

  it("every form on every page carries the session's token", async () => {
    const client = await loggedIn();
    for (const path of PAGES) {
      const { html } = await client.get(path);
      const forms = html.match(/<form[^>]*method="post"[\s\S]*?<\/form>/g) ?? [];
      expect(forms.length, path).toBeGreaterThan(0);
      for (const form of forms)
        expect(form, `${path}: ${form.slice(0, 120)}`).toContain(`name="_csrf" value="${client.csrf}"`);
    }
  });
});

describe("admin UI headers", () => {
  it("sends a strict nonce CSP, no-store and frame denial; inline style and script carry the nonce", async () => {
    const client = await loggedIn();
    const { response, html } = await client.get("/admin");
    const csp = response.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self'");
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).not.toContain("unsafe-inline");
    expect(html).toContain(`<style nonce="${nonce}">`);
    expect(html).toContain(`<script nonce="${nonce}">`);
    // Nothing else may need an exception: no inline handlers, no style attributes, no external assets.
    expect(html).not.toMatch(/\son[a-z]+="/);
    expect(html).not.toMatch(/\sstyle="/);
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("x-frame-options")).toBeTruthy();
    // A fresh nonce per response.
    const again = (await client.get("/admin")).response.headers.get("content-security-policy");
    expect(again).not.toBe(csp);
  });

  it("shows an HTML 404 inside /admin", async () => {
    const client = await loggedIn();
    const { status, html } = await client.get("/admin/nope");
    expect(status).toBe(404);
    expect(html).toContain("<!doctype html>");
  });
});
