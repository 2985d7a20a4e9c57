/**
 * Finding a customer in the mirror the way an admin asks for one: by Antavo id, or by the hard-ID
 * value (usually the e-mail, the one thing support is given), and what Bloomreach last received
 * for it. The hard-ID search is a prefix search on an index of `lower(customers.hard_id)`: ASCII
 * letters in any case, because support is told an e-mail, not its capitals. The hard ID itself stays
 * case-sensitive (a Bloomreach webhook's customer is found by the exact value), so a value in the
 * query's own case is preferred over one that differs only in case.
 */
import type { Database } from "../db/client";
import {
  lowerAscii,
  readCustomer,
  selectCustomersByHardIdPrefix,
  selectDeliveredCommands,
} from "../db/customer-queries";

export interface LookupDeps {
  db: Database;
}

export type MirroredCustomer = NonNullable<Awaited<ReturnType<typeof readCustomer>>>;
export type CustomerMatch = Awaited<ReturnType<typeof selectCustomersByHardIdPrefix>>[number];

/** How many matches a search lists; more than that asks for a longer prefix. */
export const MAX_MATCHES = 20;
/** Ids are at most 256 characters and a hard-ID value (an e-mail) far shorter: a longer query, from the page too, is not run. */
export const MAX_QUERY_LENGTH = 500;

export type CustomerLookup =
  /** `others`: customers whose hard-ID value also starts with the query. */
  | { kind: "found"; customer: MirroredCustomer; matchedBy: "id" | "hardId"; others: CustomerMatch[] }
  | { kind: "several"; matches: CustomerMatch[]; more: boolean }
  | { kind: "none" };

/**
 * The one customer a value query means: the one with exactly this value wins over longer values that
 * merely start with it, then the one whose value differs from it only in case, then a lone match.
 */
function onlyMatch(matches: CustomerMatch[], q: string): CustomerMatch | undefined {
  const exact = matches.filter((m) => m.hardId === q);
  if (exact.length === 1) return exact[0];
  if (exact.length > 1) return undefined;
  const folded = lowerAscii(q);
  const anyCase = matches.filter((m) => m.hardId !== null && lowerAscii(m.hardId) === folded);
  if (anyCase.length === 1) return anyCase[0];
  return matches.length === 1 ? matches[0] : undefined;
}

export async function lookUpCustomer(deps: LookupDeps, query: string): Promise<CustomerLookup> {
  const q = query.trim();
  if (q === "" || q.length > MAX_QUERY_LENGTH) return { kind: "none" };
  const [byId, byHardId] = await Promise.all([
    readCustomer(deps.db, q),
    selectCustomersByHardIdPrefix(deps.db, q, MAX_MATCHES + 1),
  ]);
  if (byId) return { kind: "found", customer: byId, matchedBy: "id", others: byHardId.filter((m) => m.id !== q) };
  const chosen = onlyMatch(byHardId, q);
  if (chosen) {
    const customer = await readCustomer(deps.db, chosen.id);
    if (customer)
      return {
        kind: "found",
        customer,
        matchedBy: "hardId",
        others: byHardId.filter((m) => m.id !== chosen.id).slice(0, MAX_MATCHES),
      };
  }
  if (byHardId.length === 0) return { kind: "none" };
  return { kind: "several", matches: byHardId.slice(0, MAX_MATCHES), more: byHardId.length > MAX_MATCHES };
}

/**
 * The API's search (`GET /api/customers?q=`): the customer with this id, if any, then those whose
 * hard-ID value starts with it (ASCII letters in any case), at most MAX_MATCHES in all.
 */
export async function searchCustomers(
  deps: LookupDeps,
  query: string,
): Promise<{ items: CustomerMatch[]; more: boolean }> {
  const q = query.trim();
  if (q === "") return { items: [], more: false };
  const [byId, byHardId] = await Promise.all([
    readCustomer(deps.db, q),
    selectCustomersByHardIdPrefix(deps.db, q, MAX_MATCHES + 1),
  ]);
  const first: CustomerMatch[] = byId
    ? [{ id: byId.id, hardId: byId.hardId, email: byId.email, updatedAt: byId.updatedAt }]
    : [];
  const all = [...first, ...byHardId.filter((m) => m.id !== byId?.id)];
  return { items: all.slice(0, MAX_MATCHES), more: all.length > MAX_MATCHES };
}

/** How many delivered deliveries the "last received" view reads. */
export const RECEIVED_DELIVERIES = 5;

export interface ReceivedProperty {
  property: string;
  value: unknown;
  /** The command's `update_timestamp` (Unix seconds), when it had one. */
  at?: number;
  deliveryId: string;
}

export interface ReceivedEvent {
  eventType: string;
  timestamp?: number;
  deliveryId: string;
}

export interface LastReceived {
  /** Newest value of each customer property in the deliveries read, by property name. */
  properties: ReceivedProperty[];
  events: ReceivedEvent[];
  /** The deliveries read, newest first. */
  deliveries: { id: string; action: string; createdAt: number; commands: unknown[] }[];
}

/** One stored command: `{id, source, command}` as the delivery log writes it, or a bare command. */
function commandOf(item: unknown): { name?: unknown; data?: Record<string, unknown> } | undefined {
  if (!item || typeof item !== "object") return undefined;
  const inner = (item as { command?: unknown }).command ?? item;
  return inner && typeof inner === "object" ? (inner as { name?: unknown; data?: Record<string, unknown> }) : undefined;
}

function parseCommands(text: string): unknown[] {
  try {
    const parsed = JSON.parse(text) as unknown;
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    // An erased row holds a marker, not JSON: nothing to show.
    return [];
  }
}

/**
 * What Bloomreach last took from the relay for this customer, read from the delivery log (its
 * latest delivered deliveries to Bloomreach). Honest about its source: a value older than the log's
 * retention, or sent by something other than the relay, is not here.
 */
export async function lastReceivedByBloomreach(deps: LookupDeps, customerId: string): Promise<LastReceived> {
  const rows = await selectDeliveredCommands(deps.db, customerId, RECEIVED_DELIVERIES);
  const properties = new Map<string, ReceivedProperty>();
  const events: ReceivedEvent[] = [];
  const read = rows.map((row) => ({
    id: row.id,
    action: row.action,
    createdAt: row.createdAt,
    commands: parseCommands(row.commands),
  }));
  for (const row of read) {
    for (const item of row.commands) {
      const command = commandOf(item);
      const data = command?.data;
      if (!data) continue;
      if (command.name === "customers") {
        const at = typeof data.update_timestamp === "number" ? data.update_timestamp : undefined;
        const props = data.properties && typeof data.properties === "object" ? data.properties : {};
        for (const [property, value] of Object.entries(props)) {
          const known = properties.get(property);
          // Rows are newest first, but within the log order the command's own time decides.
          if (!known || (at !== undefined && known.at !== undefined && at > known.at))
            properties.set(property, { property, value, ...(at !== undefined ? { at } : {}), deliveryId: row.id });
        }
      } else if (command.name === "customers/events" && typeof data.event_type === "string") {
        events.push({
          eventType: data.event_type,
          ...(typeof data.timestamp === "number" ? { timestamp: data.timestamp } : {}),
          deliveryId: row.id,
        });
      }
    }
  }
  return {
    properties: [...properties.values()].sort((a, b) => a.property.localeCompare(b.property)),
    events,
    deliveries: read,
  };
}
