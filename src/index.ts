/** Worker entry: exports the handlers and Durable Object classes; the logic lives behind them. */
import { createApp } from "./app";
import { createDeps } from "./composition";
import { runScheduled } from "./cron/scheduled";
import { withLogScope } from "./lib/logger";
import { consumeDeadLetters, consumeEvents } from "./queue/consumer";

export { CustomerSync } from "./durable/customer-sync";
export { RateLimiter } from "./durable/rate-limiter";

const app = createApp();

export default {
  fetch: app.fetch,
  async queue(batch, env, _ctx) {
    const deps = createDeps(env);
    // Every line of this invocation names its batch: the queue and the batch's first message id.
    await withLogScope({ queue: batch.queue, batchId: batch.messages[0]?.id ?? null }, () =>
      batch.queue.includes("-dlq") ? consumeDeadLetters(batch, deps) : consumeEvents(batch, deps),
    );
  },
  async scheduled(controller, env, _ctx) {
    await runScheduled(controller, createDeps(env));
  },
} satisfies ExportedHandler<Env>;
