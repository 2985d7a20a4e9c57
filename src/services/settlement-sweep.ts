/**
 * The outbox's sweep (db/settlement-queries): outcomes that no plan call carried to their object
 * within a minute (the customer had no later event) are handed to the objects here, so the
 * objects' state — which events are done, which refused fields to send again — never waits on the
 * customer's next event for long. Idempotent: an object applies a settlement twice as once.
 */
import type { Database } from "../db/client";
import { deleteSettlements, selectStaleSettlements } from "../db/settlement-queries";
import { errorMessage, logger } from "../lib/logger";
import { byCustomer } from "./delivery/batch";
import type { CustomerStore } from "./delivery/ports";

/** A plan call usually carries a settlement within seconds; the sweep leaves those to it. */
export const SETTLEMENT_GRACE_SECONDS = 60;
const PAGE = 500;
/**
 * Up to 20,000 settlements a minute: as many customers seen once a minute as the sweep keeps up
 * with (a busier relay leaves rows for the next minute: later, never lost). Object calls are mostly
 * waiting, so a tick spends little CPU on them.
 */
const MAX_PAGES_PER_RUN = 40;
const CONCURRENCY = 16;

export interface SettlementSweepDeps {
  db: Database;
  customerStore: Pick<CustomerStore, "settle">;
  now: () => number;
}

/** Applies the stale settlements, a page at a time; answers how many were applied. */
export async function applyStaleSettlements(deps: SettlementSweepDeps): Promise<number> {
  let applied = 0;
  for (let page = 0; page < MAX_PAGES_PER_RUN; page++) {
    const stale = await selectStaleSettlements(deps.db, deps.now() - SETTLEMENT_GRACE_SECONDS, PAGE);
    const done: number[] = [];
    const customers = [...byCustomer(stale)];
    let next = 0;
    const worker = async () => {
      while (next < customers.length) {
        const [customerId, rows] = customers[next++]!;
        try {
          await deps.customerStore.settle(
            customerId,
            rows.map((r) => r.request),
          );
          done.push(...rows.map((r) => r.id));
        } catch (error) {
          // Left in the outbox: the customer's next plan call or the next sweep tries again.
          logger.error("applying settlements failed", { customerId, error: errorMessage(error) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, customers.length) }, worker));
    await deleteSettlements(deps.db, done);
    applied += done.length;
    // A page with failures stops the run: the same rows would come back first.
    if (stale.length < PAGE || done.length < stale.length) break;
  }
  return applied;
}
