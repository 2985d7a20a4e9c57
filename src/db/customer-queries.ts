/**
 * The D1 customer mirror: written by CustomerSync objects and the import, read by date workflows,
 * and searched by the admin (by id, or by the start of the hard-ID value in any case, on an index).
 */
import { and, asc, desc, eq, gte, inArray, lt, sql } from "drizzle-orm";
import { readPath } from "../domain/paths";
import { chunk, type Database, IDS_PER_STATEMENT, rowsPerStatement } from "./client";
import { customers, deliveries } from "./schema";

export function mirrorRow(id: string, snapshot: Record<string, unknown>, nowSeconds: number) {
  const email = readPath(snapshot, "email");
  const birthDate = readPath(snapshot, "birth_date");
  const monthDay =
    typeof birthDate === "string" && /^\d{4}-\d{2}-\d{2}/.test(birthDate) ? birthDate.slice(5, 10) : null;
  return {
    id,
    email: typeof email === "string" ? email : null,
    birthMonthDay: monthDay,
    snapshot: JSON.stringify(snapshot),
    updatedAt: nowSeconds,
  };
}

/** One row, or several (at most `rowsPerStatement(5)` = 20: D1 binds at most 100 parameters). */
export function upsertCustomerStatement(
  db: Database,
  row: ReturnType<typeof mirrorRow> | ReturnType<typeof mirrorRow>[],
) {
  return db
    .insert(customers)
    .values(Array.isArray(row) ? row : [row])
    .onConflictDoUpdate({
      target: customers.id,
      set: {
        email: sql`excluded.email`,
        birthMonthDay: sql`excluded.birth_month_day`,
        snapshot: sql`excluded.snapshot`,
        updatedAt: sql`excluded.updated_at`,
      },
    });
}

export async function readCustomer(db: Database, id: string) {
  const row = await db.select().from(customers).where(eq(customers.id, id)).get();
  return row ? { ...row, snapshot: JSON.parse(row.snapshot) as Record<string, unknown> } : undefined;
}

/**
 * Upserts mirror rows and tells which of them existed before. One batch is one transaction: the
 * existence check sees the table as the upserts find it.
 */
export async function upsertCustomersReportingExisting(
  db: Database,
  rows: ReturnType<typeof mirrorRow>[],
): Promise<Set<string>> {
  const existing = new Set<string>();
  if (rows.length === 0) return existing;
  const reads = chunk(
    rows.map((r) => r.id),
    100,
  ).map((part) => db.select({ id: customers.id }).from(customers).where(inArray(customers.id, part)));
  const writes = chunk(rows, rowsPerStatement(5)).map((part) => upsertCustomerStatement(db, part));
  const results = await db.batch([...reads, ...writes] as unknown as [
    (typeof reads)[number],
    ...(typeof reads)[number][],
  ]);
  for (const result of results.slice(0, reads.length))
    for (const row of result as { id: string }[]) existing.add(row.id);
  return existing;
}

/**
 * The mirrored customers whose hard-ID value is one of `values` (exactly, case kept), by value:
 * how a Bloomreach webhook finds its Antavo customer (the `customers_hard_id` index).
 */
export async function findCustomersByHardId(db: Database, values: string[]): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  for (const part of chunk([...new Set(values)], IDS_PER_STATEMENT)) {
    const rows = await db
      .select({ id: customers.id, hardId: customers.hardId })
      .from(customers)
      .where(inArray(customers.hardId, part));
    for (const row of rows) found.set(row.hardId!, [...(found.get(row.hardId!) ?? []), row.id]);
  }
  return found;
}

/** A character above every other in UTF-8 byte order: `prefix + it` bounds the prefix's range. */
const MAX_CHAR = "\u{10FFFF}";

/**
 * ASCII letters in lower case, the rest as it is: what SQLite's own lower() does (without ICU), so
 * a prefix folded here meets values folded by the `customers_hard_id_lower` index.
 */
export const lowerAscii = (text: string) => text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());

/** The indexed expression of `customers_hard_id_lower` (migrations/0008), written the same way. */
const hardIdLower = sql`lower(${customers.hardId})`;

/**
 * Customers whose hard-ID value starts with `prefix`, ASCII letters in any case (support types an
 * e-mail as they heard it), in value order. A range on the `customers_hard_id_lower` index rather
 * than LIKE: LIKE's case folding cannot use an index on a case-sensitive column, and a range has no
 * wildcards for a typed `%` or `_` to trip. Finding a Bloomreach webhook's customer stays exact
 * (findCustomersByHardId): only this search ignores case.
 */
export function selectCustomersByHardIdPrefix(db: Database, prefix: string, limit: number) {
  const folded = lowerAscii(prefix);
  return db
    .select({ id: customers.id, hardId: customers.hardId, email: customers.email, updatedAt: customers.updatedAt })
    .from(customers)
    .where(and(gte(hardIdLower, folded), lt(hardIdLower, folded + MAX_CHAR)))
    .orderBy(asc(hardIdLower), asc(customers.id))
    .limit(limit);
}

/**
 * The customer's latest delivered deliveries to Bloomreach with their commands, newest first (the
 * `deliveries_customer` index): what Bloomreach last took from the relay, as long as the log keeps it.
 */
export function selectDeliveredCommands(db: Database, customerId: string, limit: number) {
  return db
    .select({
      id: deliveries.id,
      action: deliveries.action,
      commands: deliveries.commands,
      createdAt: deliveries.createdAt,
      updatedAt: deliveries.updatedAt,
    })
    .from(deliveries)
    .where(
      and(
        eq(deliveries.customerId, customerId),
        eq(deliveries.status, "delivered"),
        eq(deliveries.direction, "to_bloomreach"),
      ),
    )
    .orderBy(desc(deliveries.createdAt), desc(deliveries.id))
    .limit(limit);
}
