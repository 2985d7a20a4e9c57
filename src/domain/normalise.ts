/**
 * Turns a validated webhook event into the internal RelayEvent and its dedupe claim (DESIGN 4.1).
 * An event with Antavo's id is keyed by that id for the whole retention. An event without one gets
 * a fresh id per acceptance (so a second identical `daily_login` is a new event, also for the
 * CustomerSync object), and is a duplicate only of an identical canonical body received within the
 * dedupe window: Antavo's redeliveries (5 tries, 10 s apart) carry the same body.
 */
import { randomHex, sha256Hex } from "../lib/encoding";
import type { RelayEvent } from "./event";

export interface NormalisableEvent {
  id?: string;
  action: string;
  customerId: string;
  customer?: Record<string, unknown>;
  data: Record<string, unknown>;
  createdAt?: number;
  account?: string;
  externalId?: string;
  /** A Bloomreach webhook's event (DESIGN 4.4): it travels to Antavo. */
  bloomreach?: { customerIds: Record<string, string> };
}

/** What ingest records to recognise a redelivery: the key, and until when it counts (null: retention). */
export interface DedupeClaim {
  key: string;
  expiresAt: number | null;
}

export interface NormalisedEvent {
  event: RelayEvent;
  /** Absent when the event cannot be recognised again (id-less, with the window disabled). */
  dedupe?: DedupeClaim;
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

/** The dedupe key of an event with Antavo's id. */
export const idDedupeKey = (id: string) => `id:${id}`;

export async function normaliseEvent(
  input: NormalisableEvent,
  receivedAt: number,
  dedupeWindowSeconds: number,
): Promise<NormalisedEvent> {
  const { id, createdAt, account, externalId, customer, ...rest } = input;
  const event: RelayEvent = {
    ...rest,
    id: id ?? "",
    ...(customer ? { customer } : {}),
    createdAt: createdAt ?? receivedAt,
    receivedAt,
    ...(account !== undefined ? { account } : {}),
    ...(externalId !== undefined ? { externalId } : {}),
  };
  if (id !== undefined) return { event, dedupe: { key: idDedupeKey(id), expiresAt: null } };

  const hash = await sha256Hex(canonicalJson(input));
  event.id = `evt-${hash.slice(0, 16)}-${receivedAt}-${randomHex(4)}`;
  if (dedupeWindowSeconds <= 0) return { event };
  return { event, dedupe: { key: `body:${hash}`, expiresAt: receivedAt + dedupeWindowSeconds } };
}
