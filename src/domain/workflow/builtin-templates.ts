/**
 * The five common Antavo → Bloomreach use cases as ready-made workflow documents, so an admin
 * starts from a working document instead of a blank one. Antavo event names and webhook bodies
 * differ between workspaces (vendor-apis.md: reward-claim and tier-change names are unconfirmed),
 * so every event name is a parameter with a default, and the output is an ordinary document the
 * admin can edit afterwards. TEMPLATE_CATALOG describes the parameters for the UI and docs.
 */
import { z } from "zod";
import { formatPath, RelayError } from "../../lib/errors";
import { validateWorkflowDocument, type WorkflowDocument, type WorkflowDocumentInput } from "./document";

export interface TemplateParam {
  name: string;
  /** What the UI calls it (the name is the API's key). */
  label: string;
  type: "string" | "string[]" | "time";
  /** Shown as the input's hint. */
  description: string;
  required?: boolean;
  default?: string | string[];
}

export interface TemplateCatalogEntry {
  name: string;
  title: string;
  description: string;
  params: TemplateParam[];
  /**
   * Its workflows claim Antavo rewards, which go through the Antavo API connection: without one
   * they are created and can run, but every claim waits (retrying) until the connection is set up.
   */
  usesAntavoApi?: boolean;
}

type Params = Record<string, string | string[]>;

interface BuiltinTemplate extends TemplateCatalogEntry {
  build(params: Params): WorkflowDocumentInput[];
}

const str = (params: Params, key: string) => params[key] as string;
const list = (params: Params, key: string) => params[key] as string[];

/** `Platinum Plus` → `platinum_plus`: Bloomreach event names stay predictable ASCII. */
function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
}

const TEMPLATES: readonly BuiltinTemplate[] = [
  {
    name: "welcome",
    title: "Welcome",
    description:
      "On opt-in, track a Bloomreach welcome event with the opt-in date and the points added (event data `points`).",
    params: [
      {
        name: "action",
        label: "Antavo action",
        type: "string",
        default: "opt_in",
        description: "The Antavo event that starts the workflow, as your workspace names it",
      },
      {
        name: "event",
        label: "Bloomreach event name",
        type: "string",
        default: "loyalty_welcome",
        description: "The event tracked in Bloomreach (letters, digits and _)",
      },
    ],
    build: (p) => [
      {
        name: "Welcome",
        trigger: { type: "event", action: str(p, "action") },
        actions: [
          {
            type: "sync_event",
            event: str(p, "event"),
            properties: { opt_in_date: "{{event.created_at}}", points_added: "{{event.points}}" },
          },
        ],
      },
    ],
  },
  {
    name: "birthday_reward",
    title: "Birthday reward",
    usesAntavoApi: true,
    description:
      "Daily at the given UTC time, claims a free Antavo reward for each customer whose birthday is today " +
      "(Feb 29 birthdays on Feb 28 in non-leap years) and tracks a Bloomreach event with the coupon from the claim " +
      "answer (`coupon.code`, `coupon.value`, `coupon.type`, `coupon.expires_at`).",
    params: [
      {
        name: "rewardId",
        label: "Antavo reward ID",
        type: "string",
        required: true,
        description: "The Antavo reward given for free on the birthday, as its ID in Antavo's reward list",
      },
      {
        name: "at",
        label: "Time of day (UTC)",
        type: "time",
        default: "09:00",
        description: "When the daily run starts, HH:MM in UTC",
      },
      {
        name: "attribute",
        label: "Birth date field",
        type: "string",
        default: "birth_date",
        description: "The customer field (dot path) holding the birth date, YYYY-MM-DD",
      },
      {
        name: "event",
        label: "Bloomreach event name",
        type: "string",
        default: "loyalty_birthday_reward",
        description: "The event tracked in Bloomreach, with the coupon from the claim",
      },
    ],
    build: (p) => [
      {
        name: "Birthday reward",
        trigger: { type: "date", repeat: "daily", at: str(p, "at") },
        filters: [{ type: "customer_attribute", attribute: str(p, "attribute"), operator: "in_date", value: "today" }],
        actions: [
          { type: "reward_claim", rewardId: str(p, "rewardId"), free: true },
          {
            type: "sync_event",
            event: str(p, "event"),
            properties: {
              reward_id: str(p, "rewardId"),
              coupon_code: "{{claim.coupon.code}}",
              coupon_value: "{{claim.coupon.value}}",
              coupon_type: "{{claim.coupon.type}}",
              coupon_expiration: "{{claim.coupon.expires_at}}",
            },
          },
        ],
      },
    ],
  },
  {
    name: "reward_claim",
    title: "Reward claimed",
    description:
      "When a customer claims a reward in Antavo, tracks a Bloomreach event with the reward and its coupon. Expects event " +
      "data `reward_id`, `reward_name`, `reward_description` and `coupon.code` / `coupon.value` / `coupon.type` / " +
      "`coupon.expires_at`; missing ones are left out.",
    params: [
      {
        name: "action",
        label: "Antavo action",
        type: "string",
        default: "reward_claim",
        description: "Antavo reward-claim event (may be `reward` in your workspace)",
      },
      {
        name: "event",
        label: "Bloomreach event name",
        type: "string",
        default: "loyalty_reward_claim",
        description: "The event tracked in Bloomreach",
      },
    ],
    build: (p) => [
      {
        name: "Reward claimed",
        trigger: { type: "event", action: str(p, "action") },
        actions: [
          {
            type: "sync_event",
            event: str(p, "event"),
            properties: {
              reward_id: "{{event.reward_id}}",
              reward_name: "{{event.reward_name}}",
              reward_description: "{{event.reward_description}}",
              coupon_code: "{{event.coupon.code}}",
              coupon_value: "{{event.coupon.value}}",
              coupon_type: "{{event.coupon.type}}",
              coupon_expiration: "{{event.coupon.expires_at}}",
            },
          },
        ],
      },
    ],
  },
  {
    name: "tier_upgrade",
    title: "Tier upgrade",
    description:
      "One workflow per tier: when the tier-change event names that tier, tracks an event named the prefix " +
      "and the tier (e.g. loyalty_tier_gold) with the tier and the customer's points, and stores the upgrade time in " +
      "`last_tier_upgrade`.",
    params: [
      {
        name: "action",
        label: "Antavo action",
        type: "string",
        default: "tier_change",
        description: "Antavo tier-change event (may be `tier_up`)",
      },
      {
        name: "tiers",
        label: "Tier names",
        type: "string[]",
        default: ["Silver", "Gold", "Platinum"],
        description: "Tier names, as Antavo sends them",
      },
      {
        name: "attribute",
        label: "Tier field in the event data",
        type: "string",
        default: "tier",
        description: "Event data field holding the new tier's name",
      },
      {
        name: "eventPrefix",
        label: "Bloomreach event name prefix",
        type: "string",
        default: "loyalty_tier_",
        description: "Put before each tier's name: loyalty_tier_ and Gold track loyalty_tier_gold",
      },
    ],
    build: (p) =>
      list(p, "tiers").map((tier) => ({
        name: `Tier upgrade to ${tier}`,
        trigger: { type: "event" as const, action: str(p, "action") },
        filters: [
          {
            type: "event_attribute" as const,
            attribute: str(p, "attribute"),
            operator: "equals" as const,
            value: tier,
          },
        ],
        actions: [
          {
            type: "sync_event" as const,
            event: `${str(p, "eventPrefix")}${slug(tier)}`,
            properties: { tier: `{{event.${str(p, "attribute")}}}`, points: "{{customer.score}}" },
          },
          { type: "sync_fields" as const, fields: { last_tier_upgrade: "{{event.created_at}}" } },
        ],
      })),
  },
  {
    name: "last_purchase",
    title: "Last purchase",
    description:
      "On each purchase event (one workflow per action), stores the purchase total, date, transaction id and the " +
      "number of line items (`{{event.items|count}}`: entries of `items[]`, not the sum of quantities) on the " +
      "Bloomreach customer.",
    params: [
      {
        name: "actions",
        label: "Antavo purchase actions",
        type: "string[]",
        default: ["checkout", "checkout_accept"],
        description: "The Antavo purchase events, one workflow each",
      },
    ],
    build: (p) =>
      list(p, "actions").map((action) => ({
        name: `Last purchase (${action})`,
        trigger: { type: "event" as const, action },
        actions: [
          {
            type: "sync_fields" as const,
            fields: {
              last_purchase_total: "{{event.total}}",
              last_purchase_date: "{{event.created_at}}",
              last_transaction_id: "{{event.transaction_id}}",
              last_purchase_items_count: "{{event.items|count}}",
            },
          },
        ],
      })),
  },
];

export const TEMPLATE_CATALOG: readonly TemplateCatalogEntry[] = TEMPLATES.map(
  ({ name, title, description, params, usesAntavoApi }) => ({
    name,
    title,
    description,
    params,
    ...(usesAntavoApi ? { usesAntavoApi } : {}),
  }),
);

export const TEMPLATE_NAMES: readonly string[] = TEMPLATES.map((template) => template.name);

function paramSchema(param: TemplateParam): z.ZodType {
  const error = (issue: { input?: unknown }) => (issue.input === undefined ? "is required" : undefined);
  const text = z.string({ error }).trim().min(1, "must not be empty");
  if (param.type === "string[]") {
    const values = z
      .array(z.string().trim().min(1, "must not be empty"), { error })
      .min(1, "needs at least one value")
      .max(50)
      .refine((items) => new Set(items).size === items.length, "has duplicates");
    return Array.isArray(param.default) ? values.default(param.default) : values;
  }
  const value = param.type === "time" ? text.regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be HH:MM, 24-hour UTC") : text;
  return typeof param.default === "string" ? value.default(param.default) : value;
}

function invalid(message: string, issues: { path: string; message: string }[]): never {
  throw new RelayError("validation_failed", message, issues);
}

/**
 * Builds the documents for a catalog template. Bad parameters (or ones that make an invalid
 * document, such as a non-ASCII event name) throw RelayError `validation_failed` with `params.<name>` paths.
 */
export function buildTemplate(name: string, params: Record<string, unknown> = {}): WorkflowDocument[] {
  const template = TEMPLATES.find((candidate) => candidate.name === name);
  if (!template) {
    invalid(`unknown template "${name}"`, [
      { path: "template", message: `expected one of ${TEMPLATE_NAMES.join(", ")}` },
    ]);
  }
  const schema = z.strictObject(Object.fromEntries(template.params.map((param) => [param.name, paramSchema(param)])));
  const parsed = schema.safeParse(params);
  if (!parsed.success) {
    invalid(
      `invalid parameters for template "${name}"`,
      parsed.error.issues.map((issue) => ({
        path: formatPath(["params", ...issue.path]),
        message: issue.code === "unrecognized_keys" ? `unknown parameter(s): ${issue.keys.join(", ")}` : issue.message,
      })),
    );
  }
  return template.build(parsed.data as Params).map((input, index) => {
    const result = validateWorkflowDocument(input);
    if (!result.success) {
      invalid(
        `template "${name}" with these parameters makes an invalid workflow`,
        result.issues.map((issue) => ({ path: `documents.${index}.${issue.path}`, message: issue.message })),
      );
    }
    return result.document;
  });
}
