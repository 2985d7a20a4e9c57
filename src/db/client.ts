/** Opens the drizzle client over the D1 binding; the only place that knows the schema object. */
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

/** `$client` is the D1 binding itself, for the few statements drizzle cannot build (db/inbound-queries). */
export type Database = DrizzleD1Database<typeof schema> & { $client: D1Database };

export const openDatabase = (d1: D1Database): Database => drizzle(d1, { schema });

/** Values of one `in (...)` list: D1 binds at most 100 parameters, and a query has a few of its own. */
export const IDS_PER_STATEMENT = 90;

/** D1 allows 100 bound parameters per statement: how many rows of `columns` fit in one insert. */
export const rowsPerStatement = (columns: number) => Math.floor(100 / columns);

export { chunk } from "../lib/chunk";
