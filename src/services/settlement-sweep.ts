/**
 * The outbox's sweep (db/settlement-queries): outcomes that no plan call carried to their object
 * within a minute (the customer had no later event) are handed to the objects here, so the
 * objects' state — which events are done, which refused fields to send again — never waits on the
 * customer's next event for long. Idempotent: an object applies a settlement twice as once.
 */
import type { Database } from "../db/client";
import { deleteSettlements, selectStaleSettlements } from "../db/settlement-queries";
import type { CustomerStore } from "./delivery/ports";
import { settleInObjects } from "./delivery/settle";

/** A plan call usually carries a settlement within seconds; the sweep leaves those to it. */
export const SETTLEMENT_GRACE_SECONDS = 60;
/**
 * Up to 5,000 settlements a minute, a page's customers at once. Each is an object call, a
 * subrequest of the cron's invocation, so the run stays well inside the per-invocation limit; a
 * busier relay leaves rows for the next minute (later, never lost). A customer whose object fails
 * keeps its rows for the next run, and the pages go on past it.
 */
const PAGE = 200;
const MAX_PAGES_PER_RUN = 25;
export const SETTLEMENTS_PER_SWEEP = PAGE * MAX_PAGES_PER_RUN;

export interface SettlementSweepDeps {
  db: Database;
  customerStore: Pick<CustomerStore, "settle">;
  now: () => number;
}

/** Applies the stale settlements, a page at a time; answers how many were applied. */
export async function applyStaleSettlements(deps: SettlementSweepDeps): Promise<number> {
  let applied = 0;
  let after = 0;
  for (let page = 0; page < MAX_PAGES_PER_RUN; page++) {
    const { settlements, unreadable, last } = await selectStaleSettlements(
      deps.db,
      deps.now() - SETTLEMENT_GRACE_SECONDS,
      after,
      PAGE,
    );
    if (last === undefined) break;
    after = last;
    const unrecorded = await settleInObjects(
      deps.customerStore,
      settlements.map(({ customerId, request }) => ({ customerId, ...request })),
    );
    const done = settlements.filter((s) => !unrecorded.has(s.request.eventId)).map((s) => s.id);
    // A row no object can read would wait forever (and count as a backlog): it goes, logged when read.
    await deleteSettlements(deps.db, [...done, ...unreadable]);
    applied += done.length;
  }
  return applied;
}
