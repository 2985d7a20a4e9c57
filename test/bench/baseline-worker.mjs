/**
 * Bench-only baselines for the ingest measurement, served by the same workerd as the relay. They
 * take the same requests as `POST /webhooks/antavo`, so the relay's ingest cost is read as a ratio:
 *   /parse    a bare Hono route that reads and parses the body (the floor of any route),
 *   /send     parse + the durable hand-off alone (one sendBatch into a Miniflare queue),
 *   /d1-send  parse + the relay's dedupe insert + sendBatch (diagnostic: what the D1 write costs).
 * Its queue handler is also the consumer of every bench hand-off queue: it acks without work, so
 * the relay's ingest and the baselines pay the same queue cost (Miniflare drops messages sent to
 * a queue that has no consumer, which would flatter whoever sends to one).
 * Never part of src/: it is not a product route.
 */
import { Hono } from "hono";

const app = new Hono();

const parse = async (c) => JSON.parse(new TextDecoder().decode(await c.req.arrayBuffer()));
const events = (body) => (Array.isArray(body?.events) ? body.events : [body]);

app.post("/parse", async (c) => {
  const body = await parse(c);
  return c.json({ accepted: events(body).length }, 202);
});

app.post("/send", async (c) => {
  const body = await parse(c);
  const list = events(body);
  await c.env.HANDOFF_QUEUE.sendBatch(list.map((event) => ({ body: { type: "event", event }, contentType: "json" })));
  return c.json({ accepted: list.length }, 202);
});

app.post("/d1-send", async (c) => {
  const body = await parse(c);
  const list = events(body);
  const now = Math.floor(Date.now() / 1000);
  const insert = c.env.DB.prepare(
    "insert into inbound_events (id, action, customer_id, payload, received_at) values (?, ?, ?, ?, ?) on conflict do nothing returning id",
  );
  await c.env.DB.batch(
    list.map((e) =>
      insert.bind(`baseline:${e.id}`, e.action, String(e.customer?.id ?? e.customer), JSON.stringify(e), now),
    ),
  );
  await c.env.HANDOFF_QUEUE.sendBatch(list.map((event) => ({ body: { type: "event", event }, contentType: "json" })));
  return c.json({ accepted: list.length }, 202);
});

export default {
  fetch: app.fetch,
  // Acks every message of the bench's hand-off queues: only the send side is being measured.
  async queue() {},
};
