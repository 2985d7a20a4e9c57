/** Worker entry: exports the handlers and Durable Object classes; the logic lives behind them. */
import { createApp } from "./app";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;

export class CustomerSync {}
export class RateLimiter {}
