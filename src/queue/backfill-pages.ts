/**
 * The backfill half of the events consumer: each `backfill_page` message is one page of a backfill
 * job (services/backfill.ts). A page that must wait (Bloomreach asked for a retry) or that threw is
 * retried alone; the dead-letter consumer ends the job of a page the queue gave up on.
 */
import { endJob } from "../db/backfill-queries";
import type { BackfillPageMessage } from "../domain/queue-message";
import { retryDelaySeconds } from "../domain/retry-policy";
import { errorMessage, logger } from "../lib/logger";
import { type BackfillDeps, runBackfillPage } from "../services/backfill";
import type { DeliveryDeps } from "../services/deliver";

type Page = { message: Message<unknown>; body: BackfillPageMessage };

export async function consumeBackfillPages(pages: Page[], deps: BackfillDeps): Promise<void> {
  for (const { message, body } of pages) {
    const log = logger.child({ messageId: message.id, backfillId: body.jobId, cursor: body.cursor ?? null });
    try {
      const verdict = await runBackfillPage(deps, body, message.attempts);
      if (verdict.kind === "retry") {
        log.info(`backfill page retried: ${verdict.reason}`, { attempts: message.attempts });
        message.retry({ delaySeconds: verdict.delaySeconds });
        continue;
      }
      if (verdict.stopped) log.info(`backfill page stopped: ${verdict.stopped}`);
      message.ack();
    } catch (error) {
      log.error(`backfill page failed: ${errorMessage(error)}`, { attempts: message.attempts });
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
}

export async function giveUpBackfillPages(pages: Page[], deps: Pick<DeliveryDeps, "db" | "now">): Promise<void> {
  for (const { message, body } of pages) {
    const reason = `a page failed ${message.attempts} times and the queue gave up on it`;
    logger.error(`backfill page dead: ${reason}`, { backfillId: body.jobId, cursor: body.cursor ?? null });
    await endJob(deps.db, body.jobId, "failed", deps.now(), reason);
    message.ack();
  }
}
