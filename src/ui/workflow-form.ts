/**
 * The workflow editor's form model: every document field as text, at the same dot path the
 * document has (`filters.0.value`, `actions.1.properties`), so the domain schema's issue paths
 * land beside the right input. Converting form → document is parsing, like JSON.parse for the
 * API; all the rules stay in WorkflowDocumentSchema, which the service applies.
 *
 * Values are written the same way everywhere (filter values, `name = value` lines): text that
 * parses as JSON is that JSON value (5, true, ["a","b"], "quoted text"); anything else is text.
 * Rendering uses the inverse rule, so a document round-trips through the form unchanged.
 */

import { parseInstant } from "../domain/workflow/calendar";
import type { ErrorIssue } from "../lib/errors";

type FormValues = Record<string, unknown>;

const str = (value: unknown) => (typeof value === "string" ? value.trim() : "");

export interface FilterForm {
  type: string;
  attribute: string;
  operator: string;
  value: string;
}

export interface ActionForm {
  type: string;
  event: string;
  properties: string;
  fields: string;
  rewardId: string;
  free: string;
}

export interface WorkflowForm {
  name: string;
  kind: string;
  priority: string;
  startsAt: string;
  endsAt: string;
  trigger: { type: string; action: string; repeat: string; at: string; date: string };
  filters: FilterForm[];
  actions: ActionForm[];
}

export const ACTION_TYPES = ["sync_event", "sync_fields", "reward_claim"] as const;

/** A date workflow has no event, so its new filters look at the customer. */
export const blankFilter = (triggerType = "event"): FilterForm => ({
  type: triggerType === "date" ? "customer_attribute" : "event_attribute",
  attribute: "",
  operator: "equals",
  value: "",
});
export const blankAction = (type: string): ActionForm => ({
  type,
  event: "",
  properties: "",
  fields: "",
  rewardId: "",
  free: "",
});

export const blankWorkflow = (): WorkflowForm => ({
  name: "",
  kind: "general",
  priority: "",
  startsAt: "",
  endsAt: "",
  trigger: { type: "event", action: "", repeat: "daily", at: "09:00", date: "" },
  filters: [],
  actions: [blankAction("sync_event")],
});

// ---- values as text -----------------------------------------------------------------------------

/** Inverse of parseValue: strings stay bare unless bare text would read back as another JSON value. */
export function valueText(value: unknown): string {
  if (value === undefined || value === null) return value === null ? "null" : "";
  if (typeof value !== "string") return JSON.stringify(value);
  try {
    JSON.parse(value);
    return JSON.stringify(value);
  } catch {
    return value;
  }
}

export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function linesText(record: unknown): string {
  if (!record || typeof record !== "object") return "";
  return Object.entries(record as Record<string, unknown>)
    .map(([key, value]) => `${key} = ${valueText(value)}`)
    .join("\n");
}

function parseLines(text: string, path: string, issues: ErrorIssue[]): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const eq = line.indexOf("=");
    if (eq <= 0) {
      issues.push({ path, message: `line ${index + 1}: write it as name = value` });
      return;
    }
    record[line.slice(0, eq).trim()] = parseValue(line.slice(eq + 1).trim());
  });
  return record;
}

/**
 * datetime-local has no zone; the form labels these inputs UTC. The value is read as the document
 * schema reads it (`parseInstant`: seconds or ISO, no milliseconds), so the form never shows a time
 * the engine would not use; anything else is shown as written, for the schema to name.
 */
function instantText(value: unknown): string {
  if (value === null || value === undefined) return "";
  const seconds = parseInstant(value);
  return seconds === undefined ? String(value) : new Date(seconds * 1000).toISOString().slice(0, 16);
}

function instantValue(text: string): string | null {
  if (text === "") return null;
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(text) ? `${text}:00Z` : text;
}

// ---- document → form ------------------------------------------------------------------------------

export function workflowToForm(document: Record<string, unknown>): WorkflowForm {
  const trigger = (document.trigger ?? {}) as Record<string, unknown>;
  const filters = Array.isArray(document.filters) ? (document.filters as Record<string, unknown>[]) : [];
  const actions = Array.isArray(document.actions) ? (document.actions as Record<string, unknown>[]) : [];
  return {
    name: str(document.name),
    kind: str(document.kind) || "general",
    priority: document.priority === undefined ? "" : String(document.priority),
    startsAt: instantText(document.startsAt),
    endsAt: instantText(document.endsAt),
    trigger: {
      type: str(trigger.type) || "event",
      action: str(trigger.action),
      repeat: str(trigger.repeat) || "daily",
      at: str(trigger.at) || "09:00",
      date: str(trigger.date),
    },
    filters: filters.map((f) => ({
      type: str(f.type),
      attribute: str(f.attribute),
      operator: str(f.operator),
      value: valueText(f.value),
    })),
    actions: actions.map((a) => ({
      type: str(a.type),
      event: str(a.event),
      properties: linesText(a.properties),
      fields: linesText(a.fields),
      rewardId: str(a.rewardId),
      free: a.free === true ? "on" : "",
    })),
  };
}

// ---- posted form → form model → document -----------------------------------------------------------

const list = (value: unknown): FormValues[] =>
  (Array.isArray(value) ? value : value && typeof value === "object" ? Object.values(value) : []).filter(
    (item): item is FormValues => item !== null && typeof item === "object",
  );

/** Reads the posted fields back into the model (unknown keys dropped, everything text). */
export function formFromPost(values: FormValues): WorkflowForm {
  const trigger = (values.trigger && typeof values.trigger === "object" ? values.trigger : {}) as FormValues;
  return {
    name: str(values.name),
    kind: str(values.kind) || "general",
    priority: str(values.priority),
    startsAt: str(values.startsAt),
    endsAt: str(values.endsAt),
    trigger: {
      type: str(trigger.type) || "event",
      action: str(trigger.action),
      repeat: str(trigger.repeat),
      at: str(trigger.at),
      date: str(trigger.date),
    },
    filters: list(values.filters).map((f) => ({
      type: str(f.type),
      attribute: str(f.attribute),
      operator: str(f.operator),
      value: str(f.value),
    })),
    actions: list(values.actions).map((a) => ({
      type: str(a.type),
      event: str(a.event),
      properties: typeof a.properties === "string" ? a.properties : "",
      fields: typeof a.fields === "string" ? a.fields : "",
      rewardId: str(a.rewardId),
      free: a.free === "on" ? "on" : "",
    })),
  };
}

function filterValue(filter: FilterForm): unknown {
  if (filter.operator === "in" && !filter.value.startsWith("[")) {
    return filter.value === "" ? [] : filter.value.split(",").map((item) => parseValue(item.trim()));
  }
  if (filter.operator === "exists" && filter.value === "") return true;
  return parseValue(filter.value);
}

/** The document the form describes, plus the issues only the form can have (unreadable lines). */
export function formToDocument(form: WorkflowForm): { document: Record<string, unknown>; issues: ErrorIssue[] } {
  const issues: ErrorIssue[] = [];
  const trigger =
    form.trigger.type === "date"
      ? {
          type: "date",
          repeat: form.trigger.repeat,
          at: form.trigger.at,
          ...(form.trigger.date ? { date: form.trigger.date } : {}),
        }
      : { type: form.trigger.type, action: form.trigger.action };
  const document: Record<string, unknown> = {
    name: form.name,
    kind: form.kind,
    ...(form.priority !== ""
      ? { priority: /^-?\d+$/.test(form.priority) ? Number(form.priority) : form.priority }
      : {}),
    startsAt: instantValue(form.startsAt),
    endsAt: instantValue(form.endsAt),
    trigger,
    filters: form.filters.map((f) => ({
      type: f.type,
      attribute: f.attribute,
      operator: f.operator,
      value: filterValue(f),
    })),
    actions: form.actions.map((a, index) => {
      if (a.type === "sync_event")
        return {
          type: a.type,
          event: a.event,
          properties: parseLines(a.properties, `actions.${index}.properties`, issues),
        };
      if (a.type === "sync_fields")
        return { type: a.type, fields: parseLines(a.fields, `actions.${index}.fields`, issues) };
      return { type: a.type, rewardId: a.rewardId, free: a.free === "on" };
    }),
  };
  return { document, issues };
}

/** The "Add …" / "Remove" buttons of the editor: edit the model without saving it. */
export function editWorkflowForm(form: WorkflowForm, values: FormValues): WorkflowForm | undefined {
  if (values._add_filter !== undefined) return { ...form, filters: [...form.filters, blankFilter(form.trigger.type)] };
  if (typeof values._add_action === "string" && (ACTION_TYPES as readonly string[]).includes(values._add_action)) {
    return { ...form, actions: [...form.actions, blankAction(values._add_action)] };
  }
  const index = (key: string) =>
    typeof values[key] === "string" && /^\d+$/.test(values[key] as string) ? Number(values[key]) : undefined;
  const filter = index("_remove_filter");
  if (filter !== undefined) return { ...form, filters: form.filters.filter((_, i) => i !== filter) };
  const action = index("_remove_action");
  if (action !== undefined) return { ...form, actions: form.actions.filter((_, i) => i !== action) };
  return undefined;
}
