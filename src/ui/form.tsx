/**
 * Form building blocks. A field's name, id and error slot all derive from the same dot path the
 * API reports in `issues[].path` (`fields.1.remoteField` ↔ name `fields[1][remoteField]` ↔ id
 * `f-fields-1-remoteField`), so a service's RelayError lands next to the input at fault without a
 * per-form mapping table.
 */
import type { Child } from "hono/jsx";
import type { ErrorIssue } from "../lib/errors";

export const CSRF_FIELD = "_csrf";

/** What a form shows: the values to put back in the inputs and the issues to show beside them. */
export interface FormState {
  values: unknown;
  issues: ErrorIssue[];
  /** A message for the whole form (the RelayError's message). */
  message?: string;
}

export const fieldId = (path: string) => `f-${path.replace(/[^A-Za-z0-9_-]+/g, "-")}`;
const scopedId = (path: string, scope?: string) => fieldId(scope ? `${scope}.${path}` : path);

export function fieldName(path: string): string {
  const [first = "", ...rest] = path.split(".");
  return first + rest.map((segment) => `[${segment}]`).join("");
}

export const issueAt = (issues: readonly ErrorIssue[], path: string) =>
  issues.filter((issue) => issue.path === path).map((issue) => issue.message);

/** Reads a dot path out of form values (bracket-form objects or API documents alike). */
export function valueAt(values: unknown, path: string): unknown {
  let current = values;
  for (const segment of path.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

export function text(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

export function CsrfField(props: { token: string }) {
  return <input type="hidden" name={CSRF_FIELD} value={props.token} />;
}

export function FieldError(props: { path: string; messages: string[]; scope?: string }) {
  if (props.messages.length === 0) return null;
  return (
    <p class="error" id={`${scopedId(props.path, props.scope)}-error`}>
      {props.messages.join("; ")}
    </p>
  );
}

interface InputProps {
  path: string;
  /** Prefixes the id when one page has several forms with the same paths (template parameters). */
  scope?: string;
  label: string;
  state: FormState;
  hint?: Child;
  type?: "text" | "url" | "password" | "number" | "search" | "datetime-local" | "time" | "date";
  /** Overrides the value read from the state (password inputs pass ""). */
  value?: string;
  list?: string;
  required?: boolean;
  readonly?: boolean;
  autocomplete?: string;
  placeholder?: string;
  inputmode?: "numeric" | "decimal" | "text";
  min?: number;
  max?: number;
}

/** Label, hint, control and error: every field reads the same to a screen reader. */
function FieldFrame(props: {
  id: string;
  path: string;
  label: string;
  hint?: Child;
  messages: string[];
  scope?: string;
  children: Child;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.hint ? (
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      ) : null}
      {props.children}
      <FieldError path={props.path} messages={props.messages} scope={props.scope} />
    </div>
  );
}

/** The control's link to its hint and error. */
const described = (id: string, hint: Child | undefined, messages: string[]) => ({
  "aria-invalid": messages.length > 0 ? ("true" as const) : undefined,
  "aria-describedby":
    [hint ? `${id}-hint` : "", messages.length > 0 ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined,
});

export function Field(props: InputProps) {
  const id = scopedId(props.path, props.scope);
  const messages = issueAt(props.state.issues, props.path);
  return (
    <FieldFrame id={id} path={props.path} label={props.label} hint={props.hint} messages={messages} scope={props.scope}>
      <input
        id={id}
        name={fieldName(props.path)}
        type={props.type ?? "text"}
        value={props.value ?? text(valueAt(props.state.values, props.path))}
        list={props.list}
        required={props.required}
        readonly={props.readonly}
        autocomplete={props.autocomplete ?? "off"}
        placeholder={props.placeholder}
        inputmode={props.inputmode}
        min={props.min}
        max={props.max}
        spellcheck={false}
        {...described(id, props.hint, messages)}
      />
    </FieldFrame>
  );
}

/** Issues at the path or below it: a textarea holding a whole object answers for its keys. */
export const issuesUnder = (issues: readonly ErrorIssue[], path: string) =>
  issues
    .filter((issue) => issue.path === path || issue.path.startsWith(`${path}.`))
    .map((issue) => (issue.path === path ? issue.message : `${issue.path.slice(path.length + 1)}: ${issue.message}`));

export function TextArea(props: {
  path: string;
  label: string;
  state: FormState;
  hint?: Child;
  value?: string;
  rows?: number;
  nested?: boolean;
  attrs?: Record<string, string>;
}) {
  const id = fieldId(props.path);
  const messages = props.nested ? issuesUnder(props.state.issues, props.path) : issueAt(props.state.issues, props.path);
  return (
    <FieldFrame id={id} path={props.path} label={props.label} hint={props.hint} messages={messages}>
      <textarea
        id={id}
        name={fieldName(props.path)}
        rows={props.rows ?? 8}
        spellcheck={false}
        {...props.attrs}
        {...described(id, props.hint, messages)}
      >
        {props.value ?? text(valueAt(props.state.values, props.path))}
      </textarea>
    </FieldFrame>
  );
}

export function Select(props: {
  path: string;
  label: string;
  state: FormState;
  options: readonly (string | [value: string, label: string])[];
  hint?: Child;
  value?: string;
}) {
  const id = fieldId(props.path);
  const messages = issueAt(props.state.issues, props.path);
  const current = props.value ?? text(valueAt(props.state.values, props.path));
  return (
    <FieldFrame id={id} path={props.path} label={props.label} hint={props.hint} messages={messages}>
      <select id={id} name={fieldName(props.path)} {...described(id, props.hint, messages)}>
        {props.options.map((option) => {
          const [value, label] = typeof option === "string" ? [option, option] : option;
          return (
            <option value={value} selected={value === current}>
              {label}
            </option>
          );
        })}
      </select>
    </FieldFrame>
  );
}

export function Checkbox(props: { path: string; label: string; state: FormState; checked: boolean; hint?: Child }) {
  const id = fieldId(props.path);
  const messages = issueAt(props.state.issues, props.path);
  return (
    <div class="field">
      <div class="check">
        <input
          type="checkbox"
          id={id}
          name={fieldName(props.path)}
          value="on"
          checked={props.checked}
          aria-describedby={props.hint ? `${id}-hint` : undefined}
        />
        <div>
          <label for={id}>{props.label}</label>
          {props.hint ? (
            <p class="hint" id={`${id}-hint`}>
              {props.hint}
            </p>
          ) : null}
        </div>
      </div>
      <FieldError path={props.path} messages={messages} />
    </div>
  );
}

/** The forms' field labels, as the pages write them; any other name is spelled out from its camelCase. */
const FIELD_LABELS: Record<string, string> = {
  baseUrl: "API base URL",
  apiSecret: "API secret",
  apiKey: "API key",
  apiKeyId: "API key ID",
  projectToken: "Project token",
  loyaltyField: "Loyalty field",
  remoteField: "Bloomreach property",
  remoteId: "Bloomreach ID name",
  hardId: "Hard ID",
  remoteEvent: "Bloomreach event name",
  action: "Antavo action",
  eventType: "Bloomreach event type",
  antavoAction: "Antavo action",
  rewardId: "Reward ID",
  eventPrefix: "Event name prefix",
  at: "Date",
  rateLimitPerSecond: "Bloomreach calls per second",
  retentionDays: "Keep the delivery log for (days)",
  dedupeWindowSeconds: "Redelivery window (seconds)",
  enrichmentTtlSeconds: "Ask Antavo about a customer at most every (seconds)",
  antavoRateLimitPerMinute: "Antavo API calls per minute",
};

const LISTS = new Set(["params", "data", "fields", "rules", "events", "filters", "actions"]);

/**
 * `fields.0.loyaltyField` as the page says it: "Row 1, Antavo field". Row numbers count from 1, as
 * the rows on the page do; "$" is the form as a whole.
 */
export function fieldLabel(path: string): string {
  if (path === "$" || path === "") return "The form";
  const parts = path.split(".");
  const words: string[] = [];
  for (const part of parts) {
    if (/^\d+$/.test(part)) words.push(`row ${Number(part) + 1}`);
    // The list a row belongs to is the page's section, so "row 2" says enough.
    else if (!(LISTS.has(part) && parts.length > 1))
      words.push(FIELD_LABELS[part] ?? part.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase());
  }
  const text = words.join(", ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The form-level error box: the message, and every issue linked to its field. */
export function ErrorSummary(props: { state: FormState; title?: string; scope?: string }) {
  const { issues, message } = props.state;
  if (!message && issues.length === 0) return null;
  return (
    <div class="notice bad" role="alert" tabindex={-1} id="error-summary">
      <strong>{props.title ?? message ?? "Please fix the problems below."}</strong>
      {issues.length > 0 ? (
        <ul>
          {issues.map((issue) => (
            <li>
              <a href={`#${scopedId(issue.path, props.scope)}`}>{fieldLabel(issue.path)}</a>: {issue.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

export const emptyState = (values: unknown = {}): FormState => ({ values, issues: [] });
