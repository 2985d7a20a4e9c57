/**
 * Relay configuration documents. The zod schemas guard the admin API (through @hono/zod-validator)
 * and the planner takes the inferred types, so the contract is written down once.
 */
import { z } from "zod";

const name = z.string().trim().min(1).max(200);
/** Bloomreach attribute names must be ASCII. */
const remoteName = name.regex(/^[\x20-\x7e]+$/, "must be ASCII");
const loyaltyField = name.regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, "must be a dot path like tiers.0.name");

const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });
const token = z.string().trim().min(1).max(500);

/** The Bloomreach connection as the admin writes it; the secret may be left out to keep the stored one. */
export const BloomreachConnectionSchema = z.object({
  baseUrl: httpUrl,
  projectToken: token,
  apiKeyId: token,
  apiSecret: z.string().min(1).max(500).optional(),
});

/** The Antavo API connection, same rule for the secret. */
export const AntavoConnectionSchema = z.object({
  baseUrl: httpUrl,
  environment: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9_-]+$/, "letters, digits, _ and - only"),
  apiKey: token,
  apiSecret: z.string().min(1).max(500).optional(),
});

export type BloomreachConnectionInput = z.infer<typeof BloomreachConnectionSchema>;
export type AntavoConnectionInput = z.infer<typeof AntavoConnectionSchema>;

export const HardIdSchema = z.object({ loyaltyField, remoteId: remoteName });

/** How a mapped value is sent: `date` is Unix seconds. Without a type, Antavo's numeric fields are numbers. */
export const FIELD_TYPES = ["string", "number", "boolean", "date"] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export const FieldMappingSchema = z.object({
  loyaltyField,
  remoteField: remoteName,
  type: z.enum(FIELD_TYPES).optional(),
});

export const MappingSchema = z
  .object({
    hardId: HardIdSchema.nullable(),
    fields: z.array(FieldMappingSchema).max(200),
  })
  .superRefine((mapping, ctx) => {
    const seen = new Set<string>();
    mapping.fields.forEach((field, index) => {
      if (seen.has(field.remoteField)) {
        ctx.addIssue({ code: "custom", path: ["fields", index, "remoteField"], message: "is mapped twice" });
      }
      seen.add(field.remoteField);
    });
  });
export type Mapping = z.infer<typeof MappingSchema>;

export const EventSyncSchema = z.object({
  // Antavo action names are identifiers (reward_claim): a space is a typo that would never match.
  action: name.regex(/^\S*$/, "has a space: Antavo action names have none (reward_claim, not reward claim)"),
  remoteEvent: remoteName.optional(),
});

export const SettingsSchema = z
  .object({
    asyncSync: z.boolean(),
    events: z.array(EventSyncSchema).max(200),
    rateLimitPerSecond: z.number().int().min(1).max(1000).optional(),
    retentionDays: z.number().int().min(1).max(3650).optional(),
    /** 0 turns the id-less dedupe off: every id-less body is a new event. */
    dedupeWindowSeconds: z.number().int().min(0).max(86_400).optional(),
    enrichmentTtlSeconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 86_400)
      .optional(),
    /** Antavo allows 1,500 a minute on a shared stack and 20,000 on a dedicated one. */
    antavoRateLimitPerMinute: z.number().int().min(1).max(20_000).optional(),
  })
  .superRefine((settings, ctx) => {
    const seen = new Set<string>();
    settings.events.forEach((event, index) => {
      if (seen.has(event.action))
        ctx.addIssue({ code: "custom", path: ["events", index, "action"], message: "is listed twice" });
      seen.add(event.action);
    });
  });
export type SettingsInput = z.infer<typeof SettingsSchema>;

/** Settings as stored and used: every default filled in. */
export interface Settings {
  asyncSync: boolean;
  events: { action: string; remoteEvent: string }[];
  rateLimitPerSecond: number;
  retentionDays: number;
  dedupeWindowSeconds: number;
  enrichmentTtlSeconds: number;
  antavoRateLimitPerMinute: number;
}

export const DEFAULT_SETTINGS: Settings = {
  asyncSync: true,
  events: [],
  rateLimitPerSecond: 50,
  retentionDays: 30,
  dedupeWindowSeconds: 600,
  enrichmentTtlSeconds: 3600,
  antavoRateLimitPerMinute: 1200,
};

/** The tunables: a settings write that omits one keeps its saved value. */
export const TUNABLE_SETTINGS = [
  "rateLimitPerSecond",
  "retentionDays",
  "dedupeWindowSeconds",
  "enrichmentTtlSeconds",
  "antavoRateLimitPerMinute",
] as const;
export type Tunables = Pick<Settings, (typeof TUNABLE_SETTINGS)[number]>;

/** What the planner needs: a snapshot of mapping and settings taken once per batch. */
export interface SyncConfig {
  mapping: Mapping;
  settings: Settings;
}
