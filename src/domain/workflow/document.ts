/**
 * The workflow document (DESIGN 4.3) as one zod schema: the admin API validates with it and the
 * engine takes the inferred type, so the contract is written once. Rules that span fields (a
 * campaign's window, which template roots an action may read) live in the final refinement so each
 * issue points at the offending path.
 */
import { z } from "zod";
import { type ErrorIssue, formatPath } from "../../lib/errors";
import { inputIssues } from "../../lib/input-limits";
import { MAX_UNIX_SECONDS, parseDateOnly, parseInstant, parseIsoInstant } from "./calendar";
import { numericValue } from "./compare";
import { parsePlaceholders, templateProblems } from "./templates";

export const FILTER_OPERATORS = [
  "equals",
  "not_equals",
  "greater_than",
  "less_than",
  "contains",
  "in",
  "exists",
  "in_date",
] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

export const REPEAT_KINDS = ["once", "daily", "weekly", "monthly", "yearly"] as const;
export const IN_DATE_RANGES = ["today", "this_week", "this_month"] as const;
export const DEFAULT_PRIORITY = 100;

/**
 * Size limits (invariant 8). A workflow runs for every matching event and its rendered properties
 * are logged with each delivery, so its size is paid per event, not once: these are generous for a
 * hand-written workflow and keep one event's commands and log rows small.
 */
export const WORKFLOW_LIMITS = {
  /** The document as JSON, in UTF-16 code units (about bytes for ASCII). */
  documentChars: 64 * 1024,
  filters: 50,
  actions: 50,
  /** Properties of a sync_event, fields of a sync_fields. */
  propertiesPerAction: 100,
  /** One template string (a property value or a string inside one). */
  templateChars: 4 * 1024,
  /** Values of an `in` filter. */
  inValues: 1000,
} as const;

const ASCII = /^[\x20-\x7e]+$/;
const name = z.string().trim().min(1, "must not be empty").max(200);
/** Bloomreach attribute and event names must be ASCII. */
const remoteName = name.regex(ASCII, "must be ASCII");
const dotPath = name.regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, "must be a dot path like tiers.0.name");

function listOf(values: readonly string[]) {
  return values.map((value) => `"${value}"`).join(", ");
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T, what: string) {
  return z.enum(values, {
    error: (issue) => `unknown ${what} ${JSON.stringify(issue.input)}; expected one of ${listOf(values)}`,
  });
}

/** ISO-8601, or Unix seconds; millisecond-sized numbers are refused rather than read as year 50,000. */
const instant = z
  .union([z.number(), z.string(), z.null()], { error: "must be an ISO-8601 date-time or Unix seconds" })
  .default(null)
  .superRefine((value, ctx) => {
    if (value === null) return;
    if (typeof value === "number" && value >= MAX_UNIX_SECONDS) {
      ctx.addIssue({ code: "custom", message: "looks like milliseconds; use Unix seconds" });
    } else if (parseInstant(value) === undefined) {
      ctx.addIssue({ code: "custom", message: "must be an ISO-8601 date-time (2025-06-01T00:00:00Z) or Unix seconds" });
    }
  });

const EventTriggerSchema = z.object({ type: z.literal("event"), action: name });

/**
 * `date` anchors the repeat and is its first occurrence: required for once/weekly/monthly/yearly
 * (guessing an anchor such as "Monday" hides a mistake), optional for daily (start day).
 */
const DateTriggerSchema = z
  .object({
    type: z.literal("date"),
    repeat: oneOf(REPEAT_KINDS, "repeat"),
    at: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be HH:MM, 24-hour UTC (e.g. 09:00)"),
    date: z
      .string()
      .refine((value) => parseDateOnly(value) !== undefined, "must be a real date as YYYY-MM-DD")
      .optional(),
  })
  .superRefine((trigger, ctx) => {
    if (trigger.date === undefined && trigger.repeat !== "daily") {
      ctx.addIssue({
        code: "custom",
        path: ["date"],
        message: `is required for repeat "${trigger.repeat}": it is the anchor (first occurrence) as YYYY-MM-DD`,
      });
    }
  });

const TriggerSchema = z.discriminatedUnion("type", [EventTriggerSchema, DateTriggerSchema], {
  error: (issue) => (issue.code === "invalid_union" ? 'unknown trigger type; expected "event" or "date"' : undefined),
});

const filterType = oneOf(["event_attribute", "customer_attribute"], "filter type");
const scalar = z.union([z.string(), z.number(), z.boolean()], {
  error: "must be a string, number or boolean (use exists: false to test for a missing attribute)",
});
const orderable = z
  .union([z.number(), z.string()], { error: "must be a number, a numeric string or an ISO-8601 date" })
  .refine(
    (value) => numericValue(value) !== undefined || (typeof value === "string" && parseIsoInstant(value) !== undefined),
    "must be a number, a numeric string or an ISO-8601 date",
  );

function filterOf<const O extends FilterOperator, V extends z.ZodType>(operator: O, value: V) {
  return z.object({ type: filterType, attribute: dotPath, operator: z.literal(operator), value });
}

const FilterSchema = z.discriminatedUnion(
  "operator",
  [
    filterOf("equals", scalar),
    filterOf("not_equals", scalar),
    filterOf("greater_than", orderable),
    filterOf("less_than", orderable),
    filterOf("contains", scalar),
    filterOf(
      "in",
      z
        .array(scalar, { error: "must be a list of values" })
        .min(1, "needs at least one value")
        .max(WORKFLOW_LIMITS.inValues),
    ),
    filterOf("exists", z.boolean({ error: "must be true (present) or false (absent)" }).default(true)),
    filterOf("in_date", oneOf(IN_DATE_RANGES, "in_date range")),
  ],
  {
    error: (issue) => {
      if (issue.code !== "invalid_union") return undefined;
      const input = issue.input as { operator?: unknown } | undefined;
      return `unknown operator ${JSON.stringify(input?.operator ?? null)}; expected one of ${listOf(FILTER_OPERATORS)}`;
    },
  },
);

const templatedRecord = z
  .record(z.string().regex(ASCII, "property names must be ASCII"), z.unknown())
  .refine(
    (record) => Object.keys(record).length <= WORKFLOW_LIMITS.propertiesPerAction,
    `at most ${WORKFLOW_LIMITS.propertiesPerAction} properties per action`,
  );

const SyncEventActionSchema = z.object({
  type: z.literal("sync_event"),
  event: remoteName,
  properties: templatedRecord.default({}),
});

const SyncFieldsActionSchema = z.object({
  type: z.literal("sync_fields"),
  fields: templatedRecord.refine((fields) => Object.keys(fields).length > 0, "needs at least one field"),
});

const RewardClaimActionSchema = z.object({
  type: z.literal("reward_claim"),
  rewardId: z
    .string({ error: (issue) => (issue.input === undefined ? "rewardId is required" : "must be a string") })
    .trim()
    .min(1, "rewardId is required"),
  /** true claims without spending points (Antavo's bulk claim with force_claim). */
  free: z.boolean().default(false),
});

const ActionSchema = z.discriminatedUnion(
  "type",
  [SyncEventActionSchema, SyncFieldsActionSchema, RewardClaimActionSchema],
  {
    error: (issue) =>
      issue.code === "invalid_union"
        ? 'unknown action type; expected one of "sync_event", "sync_fields", "reward_claim"'
        : undefined,
  },
);

type Path = (string | number)[];

/** Every string inside an action's templated values, with its path. */
function templateStrings(value: unknown, path: Path, out: { path: Path; text: string }[] = []) {
  if (typeof value === "string") out.push({ path, text: value });
  else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) templateStrings(item, [...path, index], out);
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) templateStrings(item, [...path, key], out);
  }
  return out;
}

export const WorkflowDocumentSchema = z
  .object({
    name,
    kind: oneOf(["general", "campaign"], "kind").default("general"),
    /** Lower runs first; ties are broken by creation time, then id. */
    priority: z.number().int("must be an integer").min(0).max(1_000_000).default(DEFAULT_PRIORITY),
    startsAt: instant,
    endsAt: instant,
    trigger: TriggerSchema,
    filters: z
      .array(FilterSchema)
      .max(WORKFLOW_LIMITS.filters, `at most ${WORKFLOW_LIMITS.filters} filters`)
      .default([]),
    actions: z
      .array(ActionSchema, {
        error: (issue) => (issue.input === undefined ? "needs at least one action" : "must be a list"),
      })
      .min(1, "needs at least one action")
      .max(WORKFLOW_LIMITS.actions, `at most ${WORKFLOW_LIMITS.actions} actions`),
  })
  .superRefine((doc, ctx) => {
    const issue = (path: Path, message: string) => ctx.addIssue({ code: "custom", path, message });

    if (doc.kind === "campaign") {
      if (doc.startsAt === null) issue(["startsAt"], "is required for a campaign");
      if (doc.endsAt === null) issue(["endsAt"], "is required for a campaign");
      const starts = parseInstant(doc.startsAt);
      const ends = parseInstant(doc.endsAt);
      if (starts !== undefined && ends !== undefined && ends <= starts) issue(["endsAt"], "must be after startsAt");
    } else {
      // A window on a general workflow would be silently ignored or silently obeyed; both surprise.
      for (const key of ["startsAt", "endsAt"] as const) {
        if (doc[key] !== null)
          issue([key], 'only campaign workflows have a window: set kind to "campaign" or clear it');
      }
    }

    const dateTriggered = doc.trigger.type === "date";
    if (dateTriggered) {
      doc.filters.forEach((filter, index) => {
        if (filter.type === "event_attribute") {
          issue(["filters", index, "type"], "date-triggered workflows have no event; use customer_attribute");
        }
      });
    }

    let claimed = false;
    doc.actions.forEach((action, index) => {
      const values =
        action.type === "sync_event" ? action.properties : action.type === "sync_fields" ? action.fields : undefined;
      const key = action.type === "sync_event" ? "properties" : "fields";
      for (const { path, text } of values ? templateStrings(values, ["actions", index, key]) : []) {
        if (text.length > WORKFLOW_LIMITS.templateChars) {
          issue(path, `is longer than ${WORKFLOW_LIMITS.templateChars} characters`);
          continue;
        }
        for (const problem of templateProblems(text)) issue(path, problem);
        for (const { root, text: placeholder } of parsePlaceholders(text)) {
          if (root === "event" && dateTriggered) {
            issue(path, `${placeholder}: date-triggered workflows have no event; use customer or now`);
          }
          if (root === "claim" && !claimed) {
            issue(path, `${placeholder}: claim is only available in actions after a reward_claim`);
          }
        }
      }
      if (action.type === "reward_claim") claimed = true;
    });
  });

export type WorkflowDocument = z.infer<typeof WorkflowDocumentSchema>;
/** What an author may write: defaults (kind, priority, filters, free, …) filled in by parsing. */
export type WorkflowDocumentInput = z.input<typeof WorkflowDocumentSchema>;
export type WorkflowTrigger = WorkflowDocument["trigger"];
export type EventTrigger = Extract<WorkflowTrigger, { type: "event" }>;
export type DateTrigger = Extract<WorkflowTrigger, { type: "date" }>;
export type WorkflowFilter = WorkflowDocument["filters"][number];
export type WorkflowAction = WorkflowDocument["actions"][number];

export type WorkflowValidation =
  | { success: true; document: WorkflowDocument }
  | { success: false; issues: ErrorIssue[] };

/** Parses a document into the relay's issue shape (`actions.0.properties.points`) for error bodies. */
export function validateWorkflowDocument(input: unknown): WorkflowValidation {
  // The shape limits first: everything after (zod, JSON.stringify, templateStrings) recurses.
  const limits = inputIssues(input);
  if (limits.length > 0) return { success: false, issues: limits };
  const chars = JSON.stringify(input)?.length ?? 0;
  if (chars > WORKFLOW_LIMITS.documentChars)
    return {
      success: false,
      issues: [
        { path: "$", message: `the document is ${chars} characters as JSON; at most ${WORKFLOW_LIMITS.documentChars}` },
      ],
    };
  const result = WorkflowDocumentSchema.safeParse(input);
  if (result.success) return { success: true, document: result.data };
  return {
    success: false,
    issues: result.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
  };
}

/**
 * Whether the workflow calls Antavo's API: a reward_claim does (enrichment aside, the only action
 * that does), so it needs the Antavo API connection to do its work.
 */
export function claimsRewards(document: { actions?: readonly { type?: unknown }[] }): boolean {
  return Array.isArray(document.actions) && document.actions.some((action) => action?.type === "reward_claim");
}
