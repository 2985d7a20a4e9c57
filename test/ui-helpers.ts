/**
 * A tiny cookie-keeping client for the admin UI tests: drives `/admin` through SELF like a browser
 * would (cookies, same-origin Origin header, the form's CSRF field), without following redirects,
 * so tests can assert on each hop.
 */
import { SELF } from "cloudflare:test";
import { secrets } from "./support/http";

export const ORIGIN = "https://relay.test";

export class UiClient {
  readonly cookies = new Map<string, string>();
  /** The CSRF token of the last page that had one. */
  csrf = "";

  private remember(response: Response) {
    for (const header of response.headers.getAll("set-cookie")) {
      const [pair = ""] = header.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (/max-age=0/i.test(header) || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  private cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  async get(path: string, headers: Record<string, string> = {}) {
    const response = await SELF.fetch(`${ORIGIN}${path}`, {
      redirect: "manual",
      headers: { cookie: this.cookieHeader(), ...headers },
    });
    this.remember(response);
    const html = await response.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
    if (token) this.csrf = token;
    return { response, html, status: response.status, location: response.headers.get("location") };
  }

  /** Posts a urlencoded form; adds the current CSRF token and a same-origin Origin unless told otherwise. */
  async post(
    path: string,
    fields: Record<string, string> | [string, string][] = {},
    options: { csrf?: string | null; origin?: string | null; headers?: Record<string, string> } = {},
  ) {
    const body = new URLSearchParams(fields);
    const csrf = options.csrf === undefined ? this.csrf : options.csrf;
    if (csrf !== null) body.set("_csrf", csrf);
    const headers: Record<string, string> = {
      "content-type": "application/x-www-form-urlencoded",
      cookie: this.cookieHeader(),
      ...options.headers,
    };
    const origin = options.origin === undefined ? ORIGIN : options.origin;
    if (origin !== null) headers.origin = origin;
    const response = await SELF.fetch(`${ORIGIN}${path}`, { method: "POST", redirect: "manual", headers, body });
    this.remember(response);
    const html = await response.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
    if (token) this.csrf = token;
    return { response, html, status: response.status, location: response.headers.get("location") };
  }

  async postMultipart(path: string, form: FormData, headers: Record<string, string> = {}) {
    form.set("_csrf", this.csrf);
    const response = await SELF.fetch(`${ORIGIN}${path}`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie: this.cookieHeader(), origin: ORIGIN, ...headers },
      body: form,
    });
    this.remember(response);
    return { response, text: await response.text(), status: response.status };
  }

  async login(token: string = secrets.adminToken) {
    await this.get("/admin/login");
    const result = await this.post("/admin/login", { token, next: "/admin" });
    if (result.status !== 303) throw new Error(`login failed: ${result.status} ${result.html.slice(0, 300)}`);
    await this.get("/admin");
    return result;
  }
}

export async function loggedIn() {
  const client = new UiClient();
  await client.login();
  return client;
}

/** The text of the page without tags, for assertions that should not depend on markup. */
export const textOf = (html: string) =>
  html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/g, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/&amp;/g, "&")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/\s+/g, " ");
