/**
 * Relay configuration documents. The zod schemas guard the admin API (through @hono/zod-validator)
 * and the planner takes the inferred types, so the contract is written down once.
 */
import { z } from "zod";

const name = z.string().trim().min(1).max(200);
/** Bloomreach attribute names must be ASCII. */
const remoteName = name.regex(/^[\x20-\x7e]+$/, "must be ASCII");
const loyaltyField = name.regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, "must be a dot path like tiers.0.name");

export const HardIdSchema = z.object({ loyaltyField, remoteId: remoteName });

export const FieldMappingSchema = z.object({ loyaltyField, remoteField: remoteName });

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
  action: name,
  remoteEvent: remoteName.optional(),
});

export const SettingsSchema = z
  .object({
    asyncSync: z.boolean(),
    events: z.array(EventSyncSchema).max(200),
    rateLimitPerSecond: z.number().int().min(1).max(1000).optional(),
    retentionDays: z.number().int().min(1).max(3650).optional(),
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
}

export const DEFAULT_SETTINGS: Settings = { asyncSync: true, events: [], rateLimitPerSecond: 50, retentionDays: 30 };

/** What the planner needs: a snapshot of mapping and settings taken once per batch. */
export interface SyncConfig {
  mapping: Mapping;
  settings: Settings;
}
