/**
 * Bench-only baselines for the ingest measurement, served by the same workerd as the relay. They
 * take the same requests as `POST /webhooks/antavo`, so the relay's ingest cost is read as a ratio:
 *   /parse    a bare Hono route that reads and parses the body (the floor of any route),
 *   /send     parse + the durable hand-off alone (one sendBatch into a Miniflare queue),
 *   /d1-send  parse + the relay's dedupe insert + sendBatch (diagnostic: what the D1 write costs),
 *   /grouped  parse + the same insert and sendBatch shared by concurrent requests (one D1 batch and
 *             one sendBatch per group, as the relay's group commit does): the relay's ingest
 *             without authentication, validation and normalising, so what D1 alone costs it.
 * Its queue handler is also the consumer of every bench hand-off queue: it acks without work, so
 * the relay's ingest and the baselines pay the same queue cost (Miniflare drops messages sent to
 * a queue that has no consumer, which would flatter whoever sends to one).
 * It also serves the consumer's floor (BENCH_PHASES=floor): /floor takes the relay's webhook body
 * (`{events: [...]}`) and hands each event to the floor queue, whose consumer does per batch what
 * any relay consumer must at least do: exactly one Durable Object round trip per customer in the
 * batch (FloorCustomer.touch: one storage read, one storage write), then the Bloomreach calls (a
 * customer command when the customer's mapped properties changed, then one event command per event,
 * as the relay plans them; at most 50 commands a call, 4 calls in flight), then ack.
 * Never part of src/: it is not a product route.
 */
import { DurableObject } from "cloudflare:workers";
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

// One group in flight at a time; requests arriving meanwhile wait and go in the next group.
let waiting = [];
let inFlight;
async function flushGroup(env, group) {
  const now = Math.floor(Date.now() / 1000);
  const insert = env.DB.prepare(
    "insert into inbound_events (id, action, customer_id, payload, received_at) values (?, ?, ?, ?, ?) on conflict do nothing returning id",
  );
  const list = group.flatMap((entry) => entry.list);
  await env.DB.batch(
    list.map((e) =>
      insert.bind(`grouped:${e.id}`, e.action, String(e.customer?.id ?? e.customer), JSON.stringify(e), now),
    ),
  );
  await env.HANDOFF_QUEUE.sendBatch(list.map((event) => ({ body: { type: "event", event }, contentType: "json" })));
}
async function grouped(env, list) {
  const entry = { list, done: false };
  waiting.push(entry);
  while (!entry.done) {
    if (inFlight) {
      await inFlight.catch(() => undefined);
      continue;
    }
    const group = waiting;
    waiting = [];
    inFlight = flushGroup(env, group)
      .then(() => {
        for (const e of group) e.done = true;
      })
      .finally(() => (inFlight = undefined));
    await inFlight;
  }
}

app.post("/grouped", async (c) => {
  const body = await parse(c);
  const list = events(body);
  await grouped(c.env, list);
  return c.json({ accepted: list.length }, 202);
});

app.post("/floor", async (c) => {
  const body = await parse(c);
  const list = events(body);
  await c.env.FLOOR_QUEUE.sendBatch(list.map((event) => ({ body: { type: "event", event }, contentType: "json" })));
  return c.json({ accepted: list.length }, 202);
});

/** One customer's state: the properties last sent, so an unchanged customer gets no customer command. */
export class FloorCustomer extends DurableObject {
  async touch(properties, events) {
    const state = await this.ctx.storage.get("state");
    const json = JSON.stringify(properties);
    const changed = state?.properties !== json;
    await this.ctx.storage.put("state", { properties: json, events: (state?.events ?? 0) + events, at: Date.now() });
    return changed;
  }
}

const FLOOR_CALL_CONCURRENCY = 4;
const FLOOR_MAX_COMMANDS = 50;

async function floorBatch(batch, env) {
  const byCustomer = new Map();
  for (const message of batch.messages) {
    const event = message.body.event;
    const id = String(event.customer?.id ?? event.customer);
    if (!byCustomer.has(id)) byCustomer.set(id, []);
    byCustomer.get(id).push(event);
  }
  const perCustomer = await Promise.all(
    [...byCustomer].map(async ([id, list]) => {
      const customer = list[list.length - 1].customer;
      const customerIds = { registered: customer.email };
      const properties = { first_name: customer.first_name, loyalty_tier: customer.tiers?.[0]?.name };
      const stub = env.FLOOR_CUSTOMER.get(env.FLOOR_CUSTOMER.idFromName(id));
      const changed = await stub.touch(properties, list.length);
      const commands = [];
      list.sort((a, b) => (a.created_at ?? 0) - (b.created_at ?? 0));
      if (changed)
        commands.push({
          name: "customers",
          data: { customer_ids: customerIds, properties, update_timestamp: list[0].created_at },
        });
      for (const event of list)
        commands.push({
          name: "customers/events",
          data: {
            customer_ids: customerIds,
            event_type: event.action,
            timestamp: event.created_at,
            properties: { ...event.data, antavo_event_id: event.id },
          },
        });
      return commands;
    }),
  );
  const commands = perCustomer.flat();
  const calls = [];
  for (let i = 0; i < commands.length; i += FLOOR_MAX_COMMANDS) calls.push(commands.slice(i, i + FLOOR_MAX_COMMANDS));
  const url = `${env.FLOOR_BLOOMREACH_URL}/track/v2/projects/${env.FLOOR_PROJECT_TOKEN}/batch`;
  const authorization = `Basic ${btoa(`${env.FLOOR_API_KEY_ID}:${env.FLOOR_API_SECRET}`)}`;
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < calls.length) {
      const call = calls[next++];
      const response = await fetch(url, {
        method: "POST",
        headers: { authorization, "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ commands: call }),
      });
      const answer = await response.json().catch(() => undefined);
      if (!response.ok || answer?.success !== true) failed = true;
    }
  };
  await Promise.all(Array.from({ length: Math.min(FLOOR_CALL_CONCURRENCY, calls.length) }, worker));
  if (failed) batch.retryAll();
  else batch.ackAll();
}

export default {
  fetch: app.fetch,
  // The floor queue is the floor consumer; every other bench hand-off queue is acked without work:
  // only its send side is being measured.
  async queue(batch, env) {
    if (batch.queue === env.FLOOR_QUEUE_NAME) await floorBatch(batch, env);
  },
};
