/**
 * The page shell: skip link, top bar with logout, navigation and the one inline stylesheet and
 * script, both under the request's CSP nonce. Views get a ViewContext instead of a Hono Context so
 * they stay plain functions of their props.
 */

import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import { CsrfField } from "./form";
import { SCRIPT } from "./scripts";
import { STYLES } from "./styles";

export interface ViewContext {
  nonce: string;
  csrf: string;
  path: string;
  environment: string;
  notice?: string;
}

const NAV: [href: string, label: string][] = [
  ["/admin", "Dashboard"],
  ["/admin/connection", "Bloomreach"],
  ["/admin/antavo", "Antavo API"],
  ["/admin/mapping", "Sync fields"],
  ["/admin/settings", "Event sync"],
  ["/admin/workflows", "Workflows"],
  ["/admin/inbound", "Inbound from Bloomreach"],
  ["/admin/deliveries", "Deliveries"],
  ["/admin/customers", "Customers"],
];

function isCurrent(href: string, path: string) {
  return href === "/admin" ? path === "/admin" || path === "/admin/" : path === href || path.startsWith(`${href}/`);
}

function Document(props: { title: string; nonce: string; children: Child }) {
  return (
    <>
      {raw("<!doctype html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          {/* No favicon request (it would 404); data: is allowed by img-src. */}
          <link rel="icon" href="data:," />
          <title>{`${props.title} · Antavo → Bloomreach relay`}</title>
          <style nonce={props.nonce}>{raw(STYLES)}</style>
        </head>
        <body>
          {props.children}
          <script nonce={props.nonce}>{raw(SCRIPT)}</script>
        </body>
      </html>
    </>
  );
}

export function Page(props: { ctx: ViewContext; title: string; lead?: string; children: Child }) {
  const { ctx } = props;
  return (
    <Document title={props.title} nonce={ctx.nonce}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span>
          <a href="/admin">Antavo → Bloomreach relay</a>
          <span class="env">{ctx.environment}</span>
        </span>
        <form method="post" action="/admin/logout">
          <CsrfField token={ctx.csrf} />
          <button type="submit" class="small">
            Log out
          </button>
        </form>
      </header>
      <div class="shell">
        <nav class="side" aria-label="Sections">
          <ul>
            {NAV.map(([href, label]) => (
              <li>
                <a href={href} aria-current={isCurrent(href, ctx.path) ? "page" : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" tabindex={-1}>
          <h1>{props.title}</h1>
          {props.lead ? <p class="lead">{props.lead}</p> : null}
          {ctx.notice ? (
            <div class="notice ok" role="status">
              {ctx.notice}
            </div>
          ) : null}
          {props.children}
        </main>
      </div>
    </Document>
  );
}

/** Pages outside the session (login, refusals): no navigation, nothing that needs a CSRF token. */
export function BarePage(props: { nonce: string; title: string; children: Child }) {
  return (
    <Document title={props.title} nonce={props.nonce}>
      <main id="main" class="login">
        <h1>{props.title}</h1>
        {props.children}
      </main>
    </Document>
  );
}
