/**
 * The date-scan half of the events consumer: each `date_scan` message is one page of a date
 * workflow's scan (services/date-runs.ts). Pages are independent, so one failing page is retried
 * alone with the retry policy's delay while the rest of the batch is acked.
 */

import type { DateScanMessage } from "../domain/queue-message";
import { retryDelaySeconds } from "../domain/retry-policy";
import { errorMessage, logger } from "../lib/logger";
import { type DateRunDeps, scanDatePage } from "../services/date-runs";

export async function consumeDateScans(
  messages: { message: Message<unknown>; body: DateScanMessage }[],
  deps: DateRunDeps,
): Promise<void> {
  for (const { message, body } of messages) {
    const log = logger.child({ messageId: message.id, workflowId: body.workflowId, occurrence: body.occurrence });
    try {
      const report = await scanDatePage(deps, body);
      if (report.stopped) log.info(`date scan stopped: ${report.stopped}`);
      message.ack();
    } catch (error) {
      log.error(`date scan page failed: ${errorMessage(error)}`, { attempts: message.attempts });
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
}
