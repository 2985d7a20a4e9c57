/**
 * The admin UI's server-side sessions. Rows are keyed by a digest of the cookie's session id (the
 * caller hashes it), live until `expires_at`, and are deleted on logout; expired rows are pruned
 * whenever someone logs in, which is rare enough to be free and frequent enough to keep the table small.
 */
import { and, eq, gt, lte } from "drizzle-orm";
import type { Database } from "./client";
import { adminSessions } from "./schema";

/** Stores a new session and drops every expired one, in one batch. */
export async function insertSession(
  db: Database,
  session: { id: string; createdAt: number; expiresAt: number },
): Promise<void> {
  await db.batch([
    db.delete(adminSessions).where(lte(adminSessions.expiresAt, session.createdAt)),
    db.insert(adminSessions).values(session),
  ]);
}

export async function isSessionLive(db: Database, id: string, nowSeconds: number): Promise<boolean> {
  const row = await db
    .select({ id: adminSessions.id })
    .from(adminSessions)
    .where(and(eq(adminSessions.id, id), gt(adminSessions.expiresAt, nowSeconds)))
    .get();
  return row !== undefined;
}

export async function deleteSession(db: Database, id: string): Promise<void> {
  await db.delete(adminSessions).where(eq(adminSessions.id, id));
}
