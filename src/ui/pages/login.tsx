/** The login form, and the page shown when a request is refused (bad CSRF token, foreign origin). */
import { CsrfField } from "../form";
import { BarePage } from "../layout";

export function LoginPage(props: {
  nonce: string;
  csrf: string;
  next: string;
  error?: string;
  notice?: string;
  configured: boolean;
}) {
  return (
    <BarePage nonce={props.nonce} title="Log in to the relay">
      {props.notice ? (
        <div class="notice ok" role="status">
          {props.notice}
        </div>
      ) : null}
      {!props.configured ? (
        <div class="notice bad" role="alert">
          ADMIN_TOKEN is not configured on this relay, so nobody can log in. Set it with{" "}
          <code>wrangler secret put ADMIN_TOKEN</code>.
        </div>
      ) : null}
      {props.error ? (
        <div class="notice bad" role="alert" id="login-error">
          {props.error}
        </div>
      ) : null}
      <form method="post" action="/admin/login" class="card">
        <CsrfField token={props.csrf} />
        <input type="hidden" name="next" value={props.next} />
        <div class="field">
          <label for="token">Admin token</label>
          <p class="hint" id="token-hint">
            The relay's ADMIN_TOKEN secret (the same one the JSON API takes as a bearer token).
          </p>
          <input
            id="token"
            name="token"
            type="password"
            autocomplete="current-password"
            required
            autofocus
            aria-describedby={props.error ? "token-hint login-error" : "token-hint"}
            aria-invalid={props.error ? "true" : undefined}
          />
        </div>
        <button type="submit">Log in</button>
      </form>
    </BarePage>
  );
}

export function RefusedPage(props: { nonce: string; reason: string }) {
  return (
    <BarePage nonce={props.nonce} title="Request refused">
      <div class="notice bad" role="alert">
        {props.reason}
      </div>
      <p>
        <a href="/admin">Back to the dashboard</a>
      </p>
    </BarePage>
  );
}

export function NotFoundPage(props: { nonce: string }) {
  return (
    <BarePage nonce={props.nonce} title="Not found">
      <p>There is no admin page here.</p>
      <p>
        <a href="/admin">Back to the dashboard</a>
      </p>
    </BarePage>
  );
}
