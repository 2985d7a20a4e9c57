/**
 * Turns a validated webhook event into the internal RelayEvent. Without an Antavo event id the
 * dedupe key is a SHA-256 of the event's canonical JSON (keys sorted), so a redelivered body maps
 * to the same key whatever its key order or encoding.
 */
import { sha256Hex } from "../lib/encoding";
import type { RelayEvent } from "./event";

export interface InboundEvent {
  id?: string;
  action: string;
  customer: string | ({ id: string } & Record<string, unknown>);
  data?: Record<string, unknown>;
  created_at?: number;
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

export async function normaliseEvent(input: InboundEvent, receivedAt: number): Promise<RelayEvent> {
  const customer = typeof input.customer === "string" ? undefined : input.customer;
  const customerId = typeof input.customer === "string" ? input.customer : input.customer.id;
  const id =
    input.id ??
    `sha256:${await sha256Hex(canonicalJson({ action: input.action, customer: input.customer, data: input.data, created_at: input.created_at }))}`;
  return {
    id,
    action: input.action,
    customerId,
    ...(customer ? { customer } : {}),
    data: input.data ?? {},
    createdAt: input.created_at ?? receivedAt,
    receivedAt,
  };
}
