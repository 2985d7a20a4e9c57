/**
 * Planning is a pure function: (config, event, customer snapshot) -> Bloomreach commands + Antavo
 * actions. No I/O, so the queue consumer, sync mode and `POST /api/preview` share it exactly.
 */
import type { CustomerIds, Plan, PlannedCommand } from "./commands";
import type { SyncConfig } from "./config";
import type { RelayEvent } from "./event";
import { convertValue, effectiveType } from "./field-types";
import { readLoyaltyField } from "./paths";

/** Bloomreach trims IDs and rejects ones without an alphanumeric character; case is kept. */
export function toHardIdValue(raw: unknown): string | undefined {
  if (typeof raw !== "string" && typeof raw !== "number") return undefined;
  const value = String(raw).trim();
  if (!/[A-Za-z0-9]/.test(value) || value === "null" || value === "undefined") return undefined;
  return value;
}

/** The customer as the planner sees it: the mirrored snapshot overlaid with the event's fields. */
export function mergeSnapshot(stored: Record<string, unknown> | undefined, event: RelayEvent): Record<string, unknown> {
  return { ...(stored ?? {}), ...(event.customer ?? {}), id: event.customerId };
}

export function resolveCustomerIds(config: SyncConfig, customer: Record<string, unknown>): CustomerIds | undefined {
  const hardId = config.mapping.hardId;
  if (!hardId) return undefined;
  const value = toHardIdValue(readLoyaltyField(customer, hardId.loyaltyField));
  return value === undefined ? undefined : { [hardId.remoteId]: value };
}

export interface MappedProperties {
  properties: Record<string, unknown>;
  /** Values left out because they could not take their mapping's type. */
  warnings: string[];
}

/** The customer's mapped fields, typed as their mappings say (see field-types). */
export function mappedProperties(config: SyncConfig, customer: Record<string, unknown>): MappedProperties {
  const mapped: MappedProperties = { properties: {}, warnings: [] };
  for (const field of config.mapping.fields) {
    const value = readLoyaltyField(customer, field.loyaltyField);
    if (value === undefined) continue;
    const converted = convertValue(value, effectiveType(field));
    if (converted.ok) mapped.properties[field.remoteField] = converted.value;
    else mapped.warnings.push(`${field.loyaltyField} -> ${field.remoteField} left out: ${converted.reason}`);
  }
  return mapped;
}

/** Whether a mapped field has no value in the snapshot (enrichment may fill it in). */
export function lacksMappedField(config: SyncConfig, customer: Record<string, unknown>): boolean {
  return config.mapping.fields.some((field) => readLoyaltyField(customer, field.loyaltyField) === undefined);
}

/**
 * What every Bloomreach event of a relay event carries besides its own properties: the relay's
 * event id (so anything downstream can dedupe) and Antavo's account and external id when sent.
 */
export function eventEnvelope(event: RelayEvent): Record<string, unknown> {
  return {
    antavo_event_id: event.id,
    ...(event.account !== undefined ? { account: event.account } : {}),
    ...(event.externalId !== undefined ? { external_id: event.externalId } : {}),
  };
}

export function planSync(config: SyncConfig, event: RelayEvent, customer: Record<string, unknown>): Plan {
  const plan: Plan = { commands: [], warnings: [] };
  const customerIds = resolveCustomerIds(config, customer);
  if (!customerIds) {
    plan.warnings.push(
      config.mapping.hardId
        ? `customer ${event.customerId} has no usable value for the hard-ID field "${config.mapping.hardId.loyaltyField}"`
        : "no hard ID is mapped: nothing can be sent to Bloomreach",
    );
    plan.unidentified = true;
    return plan;
  }

  const { properties, warnings } = mappedProperties(config, customer);
  plan.warnings.push(...warnings);
  if (Object.keys(properties).length > 0) {
    plan.commands.push({
      source: { kind: "mapping" },
      command: {
        name: "customers",
        data: { customer_ids: customerIds, properties, update_timestamp: event.createdAt },
      },
    });
  }

  const selected = config.settings.events.find((e) => e.action === event.action);
  if (selected) {
    const command: PlannedCommand = {
      source: { kind: "event_sync", action: event.action },
      command: {
        name: "customers/events",
        data: {
          customer_ids: customerIds,
          event_type: selected.remoteEvent,
          timestamp: event.createdAt,
          properties: { ...event.data, ...eventEnvelope(event) },
        },
      },
    };
    plan.commands.push(command);
  }
  return plan;
}
