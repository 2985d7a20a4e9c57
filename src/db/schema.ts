/**
 * D1 schema (drizzle). `npm run db:generate` turns changes here into a new flat migration in
 * `migrations/`. Singleton configuration tables use a fixed primary key `id = 1`.
 * All times are Unix seconds unless a column name says `_ms`.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

const now = sql`(unixepoch())`;

/** Bloomreach Engagement project connection. The API secret is stored AES-GCM encrypted. */
export const bloomreachConnection = sqliteTable("bloomreach_connection", {
  id: integer("id").primaryKey(),
  baseUrl: text("base_url").notNull(),
  projectToken: text("project_token").notNull(),
  apiKeyId: text("api_key_id").notNull(),
  apiSecretEnc: text("api_secret_enc"),
  /** `active`, or `paused` after a 401/403 from Bloomreach: delivery waits until it is fixed. */
  deliveryState: text("delivery_state").notNull().default("active"),
  pausedReason: text("paused_reason"),
  pausedAt: integer("paused_at"),
  updatedAt: integer("updated_at").notNull().default(now),
});

/** Antavo API connection, used for enrichment and the reward-claim action. */
export const antavoConnection = sqliteTable("antavo_connection", {
  id: integer("id").primaryKey(),
  baseUrl: text("base_url").notNull(),
  environment: text("environment").notNull(),
  apiKey: text("api_key").notNull(),
  apiSecretEnc: text("api_secret_enc"),
  updatedAt: integer("updated_at").notNull().default(now),
});

/** The hard ID: which loyalty field identifies the customer in Bloomreach. Set once. */
export const hardIdMapping = sqliteTable("hard_id_mapping", {
  id: integer("id").primaryKey(),
  loyaltyField: text("loyalty_field").notNull(),
  remoteId: text("remote_id").notNull(),
  updatedAt: integer("updated_at").notNull().default(now),
});

/** Loyalty field -> Bloomreach customer property. */
export const fieldMappings = sqliteTable("field_mappings", {
  position: integer("position").primaryKey(),
  loyaltyField: text("loyalty_field").notNull(),
  remoteField: text("remote_field").notNull(),
  /** string | number | boolean | date; null: as Antavo sends it (numbers for its numeric fields). */
  type: text("type"),
});

export const settings = sqliteTable("settings", {
  id: integer("id").primaryKey(),
  asyncSync: integer("async_sync", { mode: "boolean" }).notNull().default(true),
  /** Bloomreach calls per second allowed for the project, across all consumers. */
  rateLimitPerSecond: integer("rate_limit_per_second").notNull().default(50),
  retentionDays: integer("retention_days").notNull().default(30),
  /** How long an identical id-less body counts as a redelivery (0: never). */
  dedupeWindowSeconds: integer("dedupe_window_seconds").notNull().default(600),
  /** How long Antavo's answer to `GET /customers/{id}` stands for a customer. */
  enrichmentTtlSeconds: integer("enrichment_ttl_seconds").notNull().default(3600),
  /** The budget every Antavo call shares (enrichment, claims, events). */
  antavoRateLimitPerMinute: integer("antavo_rate_limit_per_minute").notNull().default(1200),
  updatedAt: integer("updated_at").notNull().default(now),
});

/** Antavo actions selected for event synchronisation and their Bloomreach event names. */
export const eventSync = sqliteTable("event_sync", {
  action: text("action").primaryKey(),
  remoteEvent: text("remote_event").notNull(),
  /** The admin's order of the rows (migration 0005); rows saved before it share 0 and sort by action. */
  position: integer("position").notNull().default(0),
});

export const workflows = sqliteTable(
  "workflows",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    active: integer("active", { mode: "boolean" }).notNull().default(false),
    priority: integer("priority").notNull().default(100),
    /** The workflow document (DESIGN 4.3) as JSON. */
    document: text("document").notNull(),
    createdAt: integer("created_at").notNull().default(now),
    updatedAt: integer("updated_at").notNull().default(now),
    lastRunAt: integer("last_run_at"),
  },
  (t) => [index("workflows_order").on(t.priority, t.createdAt)],
);

/** One run of a date workflow for one customer on one date: the primary key makes it happen once. */
export const workflowRuns = sqliteTable(
  "workflow_runs",
  {
    workflowId: text("workflow_id").notNull(),
    customerId: text("customer_id").notNull(),
    runDate: text("run_date").notNull(),
    createdAt: integer("created_at").notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.workflowId, t.customerId, t.runDate] })],
);

/** Mirror of Antavo customers, written by the CustomerSync objects and the import. */
export const customers = sqliteTable(
  "customers",
  {
    id: text("id").primaryKey(),
    email: text("email"),
    /** `MM-DD` of birth_date, indexed for birthday workflows. */
    birthMonthDay: text("birth_month_day"),
    snapshot: text("snapshot").notNull(),
    updatedAt: integer("updated_at").notNull().default(now),
    /**
     * The customer's hard-ID value (the mapped hard-ID field of the snapshot, trimmed), by which a
     * Bloomreach webhook finds its Antavo customer. Kept by triggers (migrations/0003_inbound.sql),
     * never written by the relay's code.
     */
    hardId: text("hard_id"),
  },
  (t) => [
    index("customers_birth_month_day").on(t.birthMonthDay, t.id),
    index("customers_hard_id").on(t.hardId),
    // The admin's search by the start of the value in any (ASCII) case, in answer order (0008).
    index("customers_hard_id_lower").on(sql`lower(${t.hardId})`, t.id),
  ],
);

/**
 * Every accepted inbound event, keyed by its dedupe key (a redelivery hits the primary key).
 * `payload` is the normalised event so that the sweeper and replay can requeue it without Antavo.
 */
export const inboundEvents = sqliteTable(
  "inbound_events",
  {
    id: text("id").primaryKey(),
    action: text("action").notNull(),
    customerId: text("customer_id").notNull(),
    payload: text("payload").notNull(),
    receivedAt: integer("received_at").notNull(),
  },
  // An inbound event with no delivery row after a while was never handed off: the sweeper requeues it.
  (t) => [index("inbound_events_received").on(t.receivedAt)],
);

/**
 * What makes a webhook a redelivery: `id:<antavo id>` (kept for the retention, `expires_at` null) or
 * `body:<sha256>` of an id-less body (until `expires_at`, after which the same body is a new event).
 * `event_id` is the event that holds the key; ingest inserts an event only while it holds its key.
 */
export const dedupeKeys = sqliteTable(
  "dedupe_keys",
  {
    key: text("key").primaryKey(),
    eventId: text("event_id").notNull(),
    expiresAt: integer("expires_at"),
    claimedAt: integer("claimed_at").notNull(),
  },
  (t) => [index("dedupe_keys_claimed").on(t.claimedAt)],
);

/** One delivery per inbound event: its Bloomreach commands and their fate. */
export const deliveries = sqliteTable(
  "deliveries",
  {
    id: text("id").primaryKey(),
    eventId: text("event_id").notNull(),
    customerId: text("customer_id").notNull(),
    action: text("action").notNull(),
    /** pending | retrying | delivered | dead | paused */
    status: text("status").notNull(),
    /** to_bloomreach (an Antavo webhook) | to_antavo (a Bloomreach webhook, DESIGN 4.4). */
    direction: text("direction").notNull().default("to_bloomreach"),
    attempts: integer("attempts").notNull().default(0),
    commands: text("commands").notNull().default("[]"),
    lastError: text("last_error"),
    /** JSON array: what planning left out and why (e.g. a value the mapping's type could not take). */
    warnings: text("warnings"),
    nextAttemptAt: integer("next_attempt_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("deliveries_event").on(t.eventId),
    index("deliveries_status").on(t.status, t.createdAt),
    index("deliveries_customer").on(t.customerId, t.createdAt),
    index("deliveries_created").on(t.createdAt),
    index("deliveries_direction").on(t.direction, t.createdAt),
    // The Deliveries search by Antavo action (migrations/0005_delivery_search.sql).
    index("deliveries_action").on(t.action, t.createdAt),
  ],
);

/**
 * Outcomes on their way to the customer's CustomerSync object (issue 13). A consumer batch writes
 * them with the delivery log, in the same D1 batch and before the ack, instead of calling every
 * object a second time; the customer's next plan call carries them to the object (which applies
 * them before it plans), and the minute sweep delivers the ones no plan picked up. `body` is the
 * object's settle request (JSON): command ids and Bloomreach's errors, erased with the customer.
 */
export const objectSettlements = sqliteTable(
  "object_settlements",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    customerId: text("customer_id").notNull(),
    body: text("body").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  // The sweep pages by id (the primary key) and reads created_at from the page's rows.
  (t) => [index("object_settlements_customer").on(t.customerId, t.id)],
);

/**
 * Bloomreach event type -> Antavo event (DESIGN 4.4): `data` is a JSON object of templates over the
 * Bloomreach event (`{{properties.*}}`, `{{customer_ids.*}}`, `{{timestamp}}`).
 */
export const inboundRules = sqliteTable("inbound_rules", {
  eventType: text("event_type").primaryKey(),
  position: integer("position").notNull(),
  antavoAction: text("antavo_action").notNull(),
  data: text("data").notNull(),
  updatedAt: integer("updated_at").notNull().default(now),
});

/** Each Bloomreach (or Antavo) call made for a delivery, with its outcome. */
export const deliveryAttempts = sqliteTable(
  "delivery_attempts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    deliveryId: text("delivery_id").notNull(),
    attempt: integer("attempt").notNull(),
    target: text("target").notNull().default("bloomreach"),
    outcome: text("outcome").notNull(),
    httpStatus: integer("http_status"),
    error: text("error"),
    request: text("request"),
    response: text("response"),
    durationMs: integer("duration_ms").notNull(),
    startedAt: integer("started_at").notNull(),
  },
  (t) => [index("delivery_attempts_delivery").on(t.deliveryId, t.id)],
);

/**
 * Admin UI sessions, so that logging out ends a session on the server and not only in the browser.
 * `id` is the SHA-256 of the session id the signed cookie carries: the table alone opens nothing.
 */
export const adminSessions = sqliteTable(
  "admin_sessions",
  {
    id: text("id").primaryKey(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("admin_sessions_expires").on(t.expiresAt)],
);

/**
 * Backfill jobs (DESIGN 4.5): every mirrored customer's mapped fields to Bloomreach, page by page.
 * `cursor` is the last customer id of the last finished page: a page runs only while the job's
 * cursor is where it starts, and finishing it moves the cursor and adds its counts in one update,
 * so a page redelivered after it finished changes nothing and a crashed job resumes after it.
 * The partial unique index lets one job run at a time.
 */
export const backfillJobs = sqliteTable(
  "backfill_jobs",
  {
    id: text("id").primaryKey(),
    /** running | done | cancelled | failed */
    status: text("status").notNull(),
    updatedSince: integer("updated_since"),
    pageSize: integer("page_size").notNull(),
    total: integer("total").notNull(),
    sent: integer("sent").notNull().default(0),
    skipped: integer("skipped").notNull().default(0),
    failed: integer("failed").notNull().default(0),
    pages: integer("pages").notNull().default(0),
    cursor: text("cursor"),
    error: text("error"),
    startedAt: integer("started_at").notNull(),
    finishedAt: integer("finished_at"),
    /** Last sign of life of its pages: a running job quiet for long is resumed by the cron sweep. */
    heartbeatAt: integer("heartbeat_at").notNull(),
  },
  (t) => [
    uniqueIndex("backfill_jobs_one_running").on(t.status).where(sql`status = 'running'`),
    index("backfill_jobs_started").on(t.startedAt),
  ],
);
