/**
 * The other way (issue 11, DESIGN 4.4): Bloomreach's scenario Webhook node posts engagement to
 * `POST /webhooks/bloomreach`, and the relay delivers it as Escher-signed Antavo events through the
 * same staged pipeline (a second sink), in the customer's order, under the shared Antavo budget, and
 * never twice. Real D1, Queue and Durable Objects; Antavo is the fail-closed fake that verifies
 * every signature. Each test that leans on the budget uses its own Antavo host (its own budget
 * object), so that a pause or a burst of one test is not another's.
 */
import { env, SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { createDeps } from "../src/composition";
import type { RelayEvent } from "../src/domain/event";
import { MAX_DELIVERY_ATTEMPTS } from "../src/domain/retry-policy";
import { type DeliveryDeps, deliverEvents } from "../src/services/deliver";
import { FakeAntavo } from "./fakes/fake-antavo";
import { FakeBloomreach } from "./fakes/fake-bloomreach";
import { installOutboundFakes } from "./fakes/outbound";
import { appWith } from "./support/app";
import { admin, json, secrets } from "./support/http";
import { asMessage, attemptRows, BLOOMREACH, deliveryRow, relayEvent, runQueue } from "./support/pipeline";

const TOKEN = "test-bloomreach-token";
const T = 1_767_225_600;

const mapping = {
  hardId: { loyaltyField: "email", remoteId: "registered" },
  fields: [{ loyaltyField: "score", remoteField: "loyalty_points" }],
};
const settings = { asyncSync: true, events: [{ action: "point_add", remoteEvent: "loyalty_point_add" }] };
const rules = {
  rules: [
    {
      eventType: "newsletter_signup",
      antavoAction: "point_add",
      data: { points: 50, reason: "{{properties.source}}", email: "{{customer_ids.registered}}" },
    },
    {
      eventType: "survey_answered",
      antavoAction: "survey",
      data: { score: "{{properties.score}}", at: "{{timestamp}}" },
    },
    { eventType: "app_installed", antavoAction: "refused_by_antavo", data: {} },
  ],
};

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

let hosts = 0;
/** Relay configured for this direction, with its own Antavo host (and so its own budget object). */
async function relay(extra: { antavoRateLimitPerMinute?: number } = {}) {
  const environment = `inbound${++hosts}`;
  const connection = {
    baseUrl: `https://api.${environment}.antavo.com`,
    environment,
    apiKey: "inbound-key",
    apiSecret: "inbound-secret",
  };
  const antavo = new FakeAntavo(connection);
  antavo.refusedActions.add("refused_by_antavo");
  const bloomreach = new FakeBloomreach(BLOOMREACH);
  for (const [path, body] of [
    ["/connection", BLOOMREACH],
    ["/antavo", connection],
    ["/mapping", mapping],
    ["/settings", { ...settings, ...extra }],
    ["/inbound", rules],
  ] as const) {
    const response = await admin(path, { body });
    if (!response.ok) throw new Error(`PUT /api${path}: ${response.status} ${await response.text()}`);
  }
  restore = installOutboundFakes(bloomreach, antavo);
  return { antavo, bloomreach, connection };
}

/** A customer in the mirror (the import's table) and at Antavo. */
async function customer(antavo: FakeAntavo, id: string, email: string) {
  await env.DB.prepare("insert into customers (id, email, snapshot, updated_at) values (?, ?, ?, ?)")
    .bind(id, email, JSON.stringify({ id, email }), T)
    .run();
  antavo.seedCustomer({ id, email, score: 0 });
}

function postBloomreach(body: unknown, init: { auth?: string | null; contentType?: string; raw?: string } = {}) {
  const headers: Record<string, string> = { "content-type": init.contentType ?? "application/json" };
  const auth = init.auth === undefined ? `Bearer ${TOKEN}` : init.auth;
  if (auth) headers.authorization = auth;
  return SELF.fetch("https://relay.test/webhooks/bloomreach", {
    method: "POST",
    headers,
    body: init.raw ?? JSON.stringify(body),
  });
}

const signup = (email: string, extra: Record<string, unknown> = {}) => ({
  event_type: "newsletter_signup",
  customer_ids: { registered: email },
  properties: { source: "footer" },
  timestamp: T,
  ...extra,
});

async function stored(id: string): Promise<RelayEvent | undefined> {
  const row = await env.DB.prepare("select payload from inbound_events where id = ?")
    .bind(id)
    .first<{ payload: string }>();
  return row ? (JSON.parse(row.payload) as RelayEvent) : undefined;
}

const countInbound = async () =>
  (await env.DB.prepare("select count(*) as n from inbound_events").first<{ n: number }>())!.n;

/** Posts the bodies, then runs what was accepted through the queue consumer (one batch). */
async function postAndDeliver(...bodies: unknown[]) {
  const ids: string[] = [];
  for (const body of bodies) {
    const response = await postBloomreach(body);
    expect(response.status).toBe(202);
    ids.push(...(await json(response)).ids);
  }
  const events = await Promise.all([...new Set(ids)].map(async (id) => (await stored(id))!));
  return { ids, run: await runQueue(events.map((event) => asMessage(event))) };
}

/** Virtual time far from the real clock; `sleep` advances it (tests never sleep). */
function clock(startMs: number) {
  let now = startMs;
  const slept: number[] = [];
  return {
    nowMs: () => now,
    sleep: async (ms: number) => {
      slept.push(ms);
      now += ms;
    },
    slept,
  };
}

function depsWith(extra: Partial<DeliveryDeps>): DeliveryDeps {
  return { ...createDeps(env), ...extra };
}

describe("POST /webhooks/bloomreach: authentication", () => {
  it("refuses a missing or wrong Bearer token and accepts the right one", async () => {
    await relay();
    const before = await countInbound();
    for (const auth of [null, "Bearer wrong-token", `Basic ${btoa(`x:${TOKEN}`)}`, `Bearer ${TOKEN} extra`]) {
      const response = await postBloomreach(signup("auth@example.com"), { auth });
      expect(response.status).toBe(401);
      expect((await json(response)).error.code).toBe("unauthorized");
    }
    expect(await countInbound()).toBe(before);
    expect((await postBloomreach(signup("auth@example.com"))).status).toBe(202);
  });

  it("refuses every call when BLOOMREACH_WEBHOOK_TOKEN is not set", async () => {
    await relay();
    const call = appWith(() => ({ bloomreachWebhookToken: undefined }));
    const response = await call("/webhooks/bloomreach", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(signup("open@example.com")),
    });
    expect(response.status).toBe(401);
    expect((await json(response)).error.message).toMatch(/not configured/);
  });

  it("does not accept the Antavo webhook's credentials, nor its own token on the Antavo webhook", async () => {
    await relay();
    const basic = `Basic ${btoa(`${secrets.basicUser}:${secrets.basicPassword}`)}`;
    expect((await postBloomreach(signup("x@example.com"), { auth: basic })).status).toBe(401);
    const antavoSide = await SELF.fetch("https://relay.test/webhooks/antavo", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ action: "opt_in", customer: "c1" }),
    });
    expect(antavoSide.status).toBe(401);
  });
});

describe("POST /webhooks/bloomreach: the body", () => {
  it("answers 400 with the offending paths and stores nothing", async () => {
    await relay();
    const before = await countInbound();
    const cases: [unknown, string[]][] = [
      [{ customer_ids: { registered: "a@b.com" } }, ["event_type"]],
      [{ event_type: "newsletter_signup", customer_ids: {} }, ["customer_ids"]],
      [
        { event_type: "newsletter_signup", customer_ids: { registered: "a@b.com" }, timestamp: "yesterday" },
        ["timestamp"],
      ],
      [
        { events: [signup("a@b.com"), { event_type: "newsletter_signup", properties: [] }] },
        ["events.1.customer_ids", "events.1.properties"],
      ],
      [{ events: Array.from({ length: 101 }, () => signup("a@b.com")) }, ["events"]],
      // The hard ID (registered) is what finds the Antavo customer.
      [{ event_type: "newsletter_signup", customer_ids: { cookie: "abc" } }, ["customer_ids.registered"]],
      [
        { events: [signup("a@b.com"), { ...signup("b@b.com"), customer_ids: { registered: "  " } }] },
        ["events.1.customer_ids.registered"],
      ],
    ];
    for (const [body, paths] of cases) {
      const response = await postBloomreach(body);
      expect(response.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      const error = (await json(response)).error;
      expect(error.code).toBe("validation_failed");
      expect(error.issues.map((i: { path: string }) => i.path).sort()).toEqual(paths.sort());
    }
    // The shared input limits: prototype keys, depth, lone surrogates, non-ASCII property names.
    const limits: [string, string][] = [
      [
        '{"event_type":"newsletter_signup","customer_ids":{"registered":"a@b.com"},"properties":{"__proto__":{"x":1}}}',
        "properties.__proto__",
      ],
      [
        `{"event_type":"newsletter_signup","customer_ids":{"registered":"a@b.com"},"properties":${"[".repeat(40)}${"]".repeat(40)}}`,
        "properties",
      ],
      ['{"event_type":"newsletter_signup","customer_ids":{"registered":"\\ud800"}}', "customer_ids.registered"],
      [
        '{"event_type":"newsletter_signup","customer_ids":{"registered":"a@b.com"},"properties":{"s\u00e9ance":1}}',
        "properties.s\u00e9ance",
      ],
    ];
    for (const [raw, path] of limits) {
      const response = await postBloomreach(undefined, { raw });
      expect(response.status).toBe(400);
      const paths = (await json(response)).error.issues.map((i: { path: string }) => i.path);
      expect(paths.some((p: string) => p.startsWith(path))).toBe(true);
    }
    expect((await postBloomreach(undefined, { raw: "{not json" })).status).toBe(400);
    expect((await postBloomreach(undefined, { raw: "hello", contentType: "text/plain" })).status).toBe(415);
    expect((await postBloomreach(undefined, { raw: `"${"x".repeat(1024 * 1024)}"` })).status).toBe(413);
    expect(await countInbound()).toBe(before);
  });

  it("answers 422 no_rule naming the event type, and stores nothing of that request", async () => {
    await relay();
    const before = await countInbound();
    const response = await postBloomreach({
      events: [signup("rule@example.com"), { ...signup("rule@example.com"), event_type: "cart_abandoned" }],
    });
    expect(response.status).toBe(422);
    const error = (await json(response)).error;
    expect(error.code).toBe("no_rule");
    expect(error.message).toContain('"cart_abandoned"');
    expect(error.issues).toEqual([{ path: "events.1.event_type", message: 'no inbound rule for "cart_abandoned"' }]);
    expect(await countInbound()).toBe(before);
  });

  it("recognises a redelivered body: by its id for good, without one within the dedupe window", async () => {
    await relay();
    const withId = signup("dup@example.com", { id: "br-evt-1" });
    const first = await json(await postBloomreach(withId));
    const again = await json(await postBloomreach(withId));
    expect(first).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(again).toMatchObject({ accepted: 0, duplicates: 1, ids: first.ids });
    // Bloomreach's id is namespaced: it can never meet an Antavo event id.
    expect(first.ids).toEqual(["br-br-evt-1"]);

    const idless = signup("dup@example.com", { properties: { source: "popup" } });
    const a = await json(await postBloomreach(idless));
    const b = await json(await postBloomreach(idless));
    expect(a.accepted).toBe(1);
    expect(b).toMatchObject({ accepted: 0, duplicates: 1, ids: a.ids });
  });
});

describe("delivery to Antavo", () => {
  it("sends the rule's Escher-signed event for the mirrored customer and logs it to_antavo", async () => {
    const { antavo } = await relay();
    await customer(antavo, "ant-1", "ada@example.com");
    const { ids, run } = await postAndDeliver(signup("ada@example.com"));
    expect(run.acked).toEqual([`msg-${ids[0]}`]);
    // A single-placeholder value keeps its type; a text template becomes text.
    expect(antavo.events).toEqual([
      {
        customer: "ant-1",
        action: "point_add",
        data: { points: 50, reason: "footer", email: "ada@example.com" },
        via: "events",
      },
    ]);
    const row = await deliveryRow(ids[0]!);
    expect(row).toMatchObject({
      status: "delivered",
      direction: "to_antavo",
      customer_id: "ant-1",
      action: "newsletter_signup",
      attempts: 1,
    });
    const listed = await json(await admin("/deliveries?direction=to_antavo"));
    expect(listed.items.map((d: { id: string }) => d.id)).toContain(ids[0]);
    const other = await json(await admin("/deliveries?direction=to_bloomreach"));
    expect(other.items.map((d: { id: string }) => d.id)).not.toContain(ids[0]);
    const detail = await json(await admin(`/deliveries/${ids[0]}`));
    expect(detail.attemptLog).toEqual([expect.objectContaining({ target: "antavo", outcome: "delivered" })]);
    antavo.assertNoUnexpected();
  });

  it("keeps the type of a single placeholder and leaves out a missing one", async () => {
    const { antavo } = await relay();
    await customer(antavo, "ant-s", "survey@example.com");
    await postAndDeliver({
      event_type: "survey_answered",
      customer_ids: { registered: "survey@example.com" },
      properties: {},
      timestamp: T + 7,
    });
    await postAndDeliver({
      event_type: "survey_answered",
      customer_ids: { registered: "survey@example.com" },
      properties: { score: 9 },
      timestamp: T + 8,
    });
    expect(antavo.events.map((e) => e.data)).toEqual([{ at: T + 7 }, { score: 9, at: T + 8 }]);
  });

  it("ends an unknown customer dead with the reason, and delivers it when replayed after an import", async () => {
    const { antavo } = await relay();
    const { ids } = await postAndDeliver(signup("later@example.com"));
    const row = await deliveryRow(ids[0]!);
    expect(row).toMatchObject({ status: "dead", direction: "to_antavo", customer_id: "later@example.com" });
    expect(row?.last_error).toMatch(/no customer in the mirror has email "later@example.com".*import/);
    expect(antavo.eventCalls).toBe(0);

    const upload = await SELF.fetch("https://relay.test/api/customers/import", {
      method: "POST",
      headers: { authorization: `Bearer ${secrets.adminToken}`, "content-type": "application/x-ndjson" },
      body: `${JSON.stringify({ id: "ant-later", email: "later@example.com" })}\n`,
    });
    expect(upload.status).toBe(200);
    antavo.seedCustomer({ id: "ant-later", email: "later@example.com" });
    expect((await admin(`/deliveries/${ids[0]}/replay`, { method: "POST" })).status).toBe(202);
    await runQueue([{ body: { type: "event", event: (await stored(ids[0]!))!, replay: true } }]);
    expect(antavo.events.map((e) => e.customer)).toEqual(["ant-later"]);
    expect(await deliveryRow(ids[0]!)).toMatchObject({ status: "delivered", customer_id: "ant-later" });
  });

  it("replays dead deliveries of one direction only", async () => {
    await relay();
    const { ids } = await postAndDeliver(signup("nobody-yet@example.com", { id: "dir-replay" }));
    expect((await deliveryRow(ids[0]!))?.status).toBe("dead");
    await env.DB.prepare(
      "insert into deliveries (id, event_id, customer_id, action, status, direction, created_at, updated_at) values ('out-dead', 'out-dead', 'c', 'opt_in', 'dead', 'to_bloomreach', 1, 1)",
    ).run();
    const replayed = await json(
      await admin("/deliveries/replay", { method: "POST", body: { status: "dead", direction: "to_antavo" } }),
    );
    expect(replayed.replayed).toBeGreaterThanOrEqual(1);
    expect((await deliveryRow(ids[0]!))?.status).toBe("retrying");
    expect((await deliveryRow("out-dead"))?.status).toBe("dead");
  });

  it("finds the customer by the exact hard-ID value (case kept), also for customers mirrored before the mapping", async () => {
    const { antavo } = await relay();
    await customer(antavo, "ant-case", "Case@Example.com");
    const { ids } = await postAndDeliver(signup("case@example.com"));
    expect((await deliveryRow(ids[0]!))?.status).toBe("dead");
    const exact = await postAndDeliver(signup("Case@Example.com", { properties: { source: "exact" } }));
    expect((await deliveryRow(exact.ids[0]!))?.status).toBe("delivered");
    const mirrored = await env.DB.prepare(
      "select count(*) as n from customers where hard_id is null and email is not null",
    ).first<{ n: number }>();
    expect(mirrored?.n).toBe(0);
  });

  it("sends a batch as one bulk call and reads each result: one refused event, the others delivered", async () => {
    const { antavo } = await relay();
    for (const n of [1, 2, 3]) await customer(antavo, `bulk-${n}`, `bulk${n}@example.com`);
    const { ids, run } = await postAndDeliver({
      events: [
        signup("bulk1@example.com"),
        { event_type: "app_installed", customer_ids: { registered: "bulk2@example.com" }, timestamp: T },
        signup("bulk3@example.com"),
      ],
    });
    expect(run.retried).toEqual([]);
    expect(antavo.eventCalls).toBe(1);
    expect(antavo.events.map((e) => [e.customer, e.via])).toEqual([
      ["bulk-1", "bulk"],
      ["bulk-3", "bulk"],
    ]);
    const [first, refused, third] = await Promise.all(ids.map((id) => deliveryRow(id)));
    expect(first?.status).toBe("delivered");
    expect(third?.status).toBe("delivered");
    expect(refused).toMatchObject({ status: "dead", direction: "to_antavo" });
    expect(refused?.last_error).toMatch(/Unknown event type refused_by_antavo, code 160401/);
    antavo.assertNoUnexpected();
  });

  it("delivers one customer's events in event-time order, whatever order they arrived in", async () => {
    const { antavo } = await relay();
    await customer(antavo, "ant-order", "order@example.com");
    await postAndDeliver({
      events: [
        {
          event_type: "survey_answered",
          customer_ids: { registered: "order@example.com" },
          properties: { score: 2 },
          timestamp: T + 20,
        },
        {
          event_type: "survey_answered",
          customer_ids: { registered: "order@example.com" },
          properties: { score: 1 },
          timestamp: T + 10,
        },
      ],
    });
    expect(antavo.events.map((e) => e.data.score)).toEqual([1, 2]);
  });
});

describe("retries and unknown outcomes", () => {
  const job = async (id: string) => ({ event: (await stored(id))!, attempt: 1 });

  it("retries a 429 after its Retry-After, and the budget holds the next call that long", async () => {
    const { antavo } = await relay();
    await customer(antavo, "ant-429", "rl@example.com");
    const response = await json(await postBloomreach(signup("rl@example.com")));
    const time = clock(Date.now() + 400 * 86_400_000);
    const deps = depsWith({ nowMs: time.nowMs, sleep: time.sleep, now: () => Math.floor(time.nowMs() / 1000) });
    antavo.script({ status: 429, retryAfter: 30 });
    const first = await deliverEvents(deps, [await job(response.ids[0])]);
    expect(first.outcomes.get(response.ids[0])).toMatchObject({ status: "retry", retryAfterSeconds: 30 });
    expect((first.outcomes.get(response.ids[0]) as { delaySeconds: number }).delaySeconds).toBeGreaterThanOrEqual(30);
    expect(antavo.events).toEqual([]);
    // Within the pause the budget holds the call: Antavo sees nothing, and the event is not lost in flight.
    const calls = antavo.eventCalls;
    const held = await deliverEvents(deps, [{ ...(await job(response.ids[0])), attempt: 2 }]);
    expect(held.outcomes.get(response.ids[0])).toMatchObject({ status: "retry" });
    expect(antavo.eventCalls).toBe(calls);
    await time.sleep(30_000);
    const third = await deliverEvents(deps, [{ ...(await job(response.ids[0])), attempt: 3 }]);
    expect(third.outcomes.get(response.ids[0])).toEqual({ status: "delivered" });
    expect(antavo.events).toHaveLength(1);
    expect(await deliveryRow(response.ids[0])).toMatchObject({ status: "delivered", attempts: 3 });
    expect((await attemptRows(response.ids[0])).map((a) => [a.target, a.outcome, a.http_status])).toEqual([
      ["antavo", "retry", 429],
      ["antavo", "retry", null],
      ["antavo", "delivered", 200],
    ]);
  });

  it("retries a 429 without Retry-After on the policy's backoff, and a 503 too, never sending twice", async () => {
    const { antavo } = await relay();
    await customer(antavo, "ant-5xx", "busy@example.com");
    const response = await json(await postBloomreach(signup("busy@example.com")));
    const time = clock(Date.now() + 500 * 86_400_000);
    const deps = depsWith({ nowMs: time.nowMs, sleep: time.sleep, now: () => Math.floor(time.nowMs() / 1000) });
    antavo.script({ status: 429 }, { status: 503 });
    const first = await deliverEvents(deps, [await job(response.ids[0])]);
    const outcome = first.outcomes.get(response.ids[0]) as {
      status: string;
      delaySeconds: number;
      retryAfterSeconds?: number;
    };
    expect(outcome.status).toBe("retry");
    expect(outcome.retryAfterSeconds).toBeUndefined();
    expect(outcome.delaySeconds).toBeGreaterThan(0);
    const second = await deliverEvents(deps, [{ ...(await job(response.ids[0])), attempt: 2 }]);
    expect(second.outcomes.get(response.ids[0])?.status).toBe("retry");
    await deliverEvents(deps, [{ ...(await job(response.ids[0])), attempt: 3 }]);
    expect(antavo.events).toHaveLength(1);
    expect((await deliveryRow(response.ids[0]))?.status).toBe("delivered");
    antavo.assertNoUnexpected();
  });

  it("after a crash between Antavo's 200 and the record: no second send, and outcome_unknown", async () => {
    const { antavo } = await relay();
    await customer(antavo, "ant-crash", "crash@example.com");
    const response = await json(await postBloomreach(signup("crash@example.com")));
    const real = createDeps(env);
    // The worker dies after Antavo's answer: the object never hears what became of the event.
    const crashing = depsWith({
      customerStore: {
        ...real.customerStore,
        settle: async () => {
          throw new Error("the isolate went away");
        },
      },
    });
    await deliverEvents(crashing, [await job(response.ids[0])]);
    expect(antavo.events).toHaveLength(1);
    // The queue delivers the message again.
    const again = await deliverEvents(real, [{ ...(await job(response.ids[0])), attempt: 2 }]);
    expect(antavo.events).toHaveLength(1);
    expect(again.outcomes.get(response.ids[0])?.status).toBe("outcome_unknown");
    const row = await deliveryRow(response.ids[0]);
    expect(row?.status).toBe("outcome_unknown");
    expect(row?.last_error).toMatch(/never recorded/);
  });

  it("after the record, a redelivered message is delivered without a second send (no outcome_unknown)", async () => {
    const { antavo } = await relay();
    await customer(antavo, "ant-rec", "recorded@example.com");
    const response = await json(await postBloomreach(signup("recorded@example.com")));
    const deps = createDeps(env);
    await deliverEvents(deps, [await job(response.ids[0])]);
    const again = await deliverEvents(deps, [{ ...(await job(response.ids[0])), attempt: 2 }]);
    expect(again.outcomes.get(response.ids[0])).toEqual({ status: "delivered" });
    expect(antavo.events).toHaveLength(1);
    expect((await deliveryRow(response.ids[0]))?.status).toBe("delivered");
  });
  it("keeps an event Antavo took delivered when its object cannot record it, and says so in its log row once", async () => {
    const { antavo } = await relay();
    await customer(antavo, "ant-unrec", "unrecorded@example.com");
    const response = await json(await postBloomreach(signup("unrecorded@example.com")));
    const real = createDeps(env);
    const report = await deliverEvents(
      depsWith({
        customerStore: {
          ...real.customerStore,
          settle: async () => {
            throw new Error("the object is overloaded");
          },
        },
      }),
      [await job(response.ids[0])],
    );
    // Antavo has it and has no idempotency key: a resend would create it twice.
    expect(report.outcomes.get(response.ids[0])).toEqual({ status: "delivered" });
    expect(antavo.events).toHaveLength(1);
    const row = await deliveryRow(response.ids[0]);
    expect(row).toMatchObject({ status: "delivered", attempts: 1 });
    expect(JSON.parse(String(row!.warnings))).toEqual([
      "the customer's object could not record the outcome: the object is overloaded",
    ]);
  });
});

describe("the shared Antavo budget", () => {
  it("spends one budget for enrichment and for this direction", async () => {
    const { antavo, connection } = await relay({ antavoRateLimitPerMinute: 60 });
    await customer(antavo, "ant-b", "budget@example.com");
    antavo.seedCustomer({ id: "enrich-me", email: "enrich@example.com", score: 3 });
    const response = await json(await postBloomreach(signup("budget@example.com")));
    const time = clock(Date.now() + 600 * 86_400_000);
    const calls: { at: number; path: string }[] = [];
    const deps = depsWith({
      nowMs: time.nowMs,
      sleep: time.sleep,
      now: () => Math.floor(time.nowMs() / 1000),
      fetch: async (input, init) => {
        const url = new URL(String(input));
        if (url.origin === connection.baseUrl) calls.push({ at: time.nowMs(), path: url.pathname });
        return fetch(input, init);
      },
    });
    // An Antavo webhook's event whose customer lacks a mapped field (enrichment), beside a Bloomreach one.
    const enrich = relayEvent({
      id: "enrich-1",
      customerId: "enrich-me",
      action: "point_add",
      customer: { email: "enrich@example.com" },
    });
    const report = await deliverEvents(deps, [
      { event: enrich, attempt: 1 },
      { event: (await stored(response.ids[0]))!, attempt: 1 },
    ]);
    expect(report.outcomes.get("enrich-1")?.status).toBe("delivered");
    expect(report.outcomes.get(response.ids[0])?.status).toBe("delivered");
    expect(calls.map((c) => c.path).sort()).toEqual(["/customers/enrich-me", "/events"]);
    // 60 a minute is one a second: whichever came second waited for the first one's permit.
    expect(Math.abs(calls[1]!.at - calls[0]!.at)).toBeGreaterThanOrEqual(990);
    expect(time.slept.some((ms) => ms >= 990)).toBe(true);
  });
});

describe("without the Antavo API connection", () => {
  it("retries on the policy's schedule and ends dead once the attempts are spent", async () => {
    const { antavo } = await relay();
    await customer(antavo, "ant-noconn", "noconn@example.com");
    const response = await postBloomreach(signup("noconn@example.com", { id: "noconn-1" }));
    const [id] = (await json(response)).ids;
    await env.DB.prepare("delete from antavo_connection").run();
    const event = (await stored(id))!;
    const deps = depsWith({});

    const first = await deliverEvents(deps, [{ event, attempt: 1 }]);
    expect(first.outcomes.get(id)).toMatchObject({
      status: "retry",
      error: expect.stringMatching(/Antavo API connection/),
    });
    expect(await deliveryRow(id)).toMatchObject({ status: "retrying", direction: "to_antavo" });
    expect((await deliveryRow(id))?.next_attempt_at).toBeGreaterThan(0);

    const last = await deliverEvents(deps, [{ event, attempt: MAX_DELIVERY_ATTEMPTS }]);
    expect(last.outcomes.get(id)).toMatchObject({ status: "dead", error: expect.stringMatching(/gave up after/) });
    expect(await deliveryRow(id)).toMatchObject({ status: "dead" });
    expect(antavo.eventCalls).toBe(0);
  });
});

describe("erasure of a customer who engaged in Bloomreach", () => {
  it("leaves no row keyed by the hard ID Bloomreach named the customer by", async () => {
    const { antavo } = await relay();
    const email = "engaged.erase@example.com";
    await customer(antavo, "ant-erase", email);
    // One event delivered (log row under the Antavo id), one still unmatched (keyed by the e-mail).
    await postAndDeliver(signup(email, { id: "erase-in-1" }));
    expect(antavo.events.map((e) => e.customer)).toEqual(["ant-erase"]);
    const pending = await postBloomreach(signup(email, { id: "erase-in-2" }));
    expect(pending.status).toBe(202);
    const rowsWith = async () => {
      const hits: string[] = [];
      for (const table of ["inbound_events", "deliveries", "delivery_attempts", "customers"]) {
        const { results } = await env.DB.prepare(`select * from ${table}`).all();
        for (const row of results) if (JSON.stringify(row).includes(email)) hits.push(table);
      }
      return hits;
    };
    expect((await rowsWith()).length).toBeGreaterThan(0);

    const erased = await admin("/customers/ant-erase", { method: "DELETE" });
    expect(erased.status).toBe(200);
    expect((await json(erased)).erased).toMatchObject({ mirror: 1, events: 2 });
    expect(await rowsWith()).toEqual([]);
  });
});

describe("GET/PUT /api/inbound", () => {
  it("saves rules, answers them back, and refuses bad templates and duplicate event types with paths", async () => {
    await relay();
    expect(await json(await admin("/inbound"))).toEqual(rules);
    const bad = await admin("/inbound", {
      body: {
        rules: [
          { eventType: "a", antavoAction: "point_add", data: { x: "{{event.points}}", y: ["{{timestamp.x}}"] } },
          { eventType: "a", antavoAction: "point_add" },
        ],
      },
    });
    expect(bad.status).toBe(400);
    const paths = (await json(bad)).error.issues.map((i: { path: string }) => i.path).sort();
    expect(paths).toEqual(["rules.0.data.x", "rules.0.data.y.0", "rules.1.eventType"]);
    expect(await json(await admin("/inbound"))).toEqual(rules);
    const document = await json(await SELF.fetch("https://relay.test/api/openapi.json"));
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(["/api/inbound", "/api/inbound/preview", "/webhooks/bloomreach"]),
    );
  });

  it("Try it shows the exact Antavo request a Bloomreach body makes, and sends nothing", async () => {
    const { antavo, connection } = await relay();
    await customer(antavo, "ant-try", "try@example.com");
    const response = await admin("/inbound/preview", { method: "POST", body: { event: signup("try@example.com") } });
    expect(response.status).toBe(200);
    const preview = await json(response);
    expect(preview.request).toMatchObject({
      method: "POST",
      url: `${connection.baseUrl}/events`,
      body: {
        customer: "ant-try",
        action: "point_add",
        data: { points: 50, reason: "footer", email: "try@example.com" },
      },
    });
    expect(preview.warnings).toEqual([]);
    const unknown = await json(
      await admin("/inbound/preview", { method: "POST", body: { event: signup("nobody@example.com") } }),
    );
    expect(unknown.warnings[0]).toMatch(/no customer in the mirror/);
    const noRule = await admin("/inbound/preview", {
      method: "POST",
      body: { event: { ...signup("try@example.com"), event_type: "nope" } },
    });
    expect(noRule.status).toBe(422);
    expect(antavo.calls).toBe(0);
  });
});
