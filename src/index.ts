/** Worker entry: exports the handlers and Durable Object classes; the logic lives behind them. */
import { createApp } from "./app";
import { createDeps } from "./composition";
import { runScheduled } from "./cron/scheduled";
import { consumeDeadLetters, consumeEvents } from "./queue/consumer";

export { CustomerSync } from "./durable/customer-sync";
export { RateLimiter } from "./durable/rate-limiter";

const app = createApp();

export default {
  fetch: app.fetch,
  async queue(batch, env, _ctx) {
    const deps = createDeps(env);
    if (batch.queue.includes("-dlq")) await consumeDeadLetters(batch, deps);
    else await consumeEvents(batch, deps);
  },
  async scheduled(controller, env, _ctx) {
    await runScheduled(controller, createDeps(env));
  },
} satisfies ExportedHandler<Env>;
