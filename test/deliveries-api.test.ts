import { createScheduledController, env } from "cloudflare:test";
import * as v from "valibot";
import { afterEach, describe, expect, it } from "vitest";
import { EventMessageSchema } from "../src/domain/queue-message";
import worker from "../src/index";
import { appWith, recordingQueue } from "./support/app";
import { demoMapping } from "./support/fixtures";
import { admin, json, secrets } from "./support/http";
import { asMessage, deliveryRow, relayEvent, runQueue, setUpRelay } from "./support/pipeline";

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

const post = (body?: unknown): RequestInit => ({
  method: "POST",
  headers: { authorization: `Bearer ${secrets.adminToken}`, "content-type": "application/json" },
  ...(body ? { body: JSON.stringify(body) } : {}),
});

describe("delivery log API", () => {
  it("lists deliveries newest first with filters and a stable cursor", async () => {
    const fakes = await setUpRelay({
      mapping: demoMapping,
      settings: { asyncSync: true, events: [{ action: "opt_in" }] },
    });
    restore = fakes.restore;
    fakes.bloomreach.failCommands(
      (c) => c.name === "customers/events" && c.data.customer_ids.registered === "list-c3@example.com",
      "Event type is invalid",
    );
    await runQueue(
      Array.from({ length: 5 }, (_, i) => asMessage(relayEvent({ id: `list-${i}`, customerId: `list-c${i}` }))),
    );

    const all = await json(await admin("/deliveries?limit=2"));
    expect(all.items).toHaveLength(2);
    expect(all.items[0]).not.toHaveProperty("commands");
    const page2 = await json(await admin(`/deliveries?limit=2&cursor=${all.nextCursor}`));
    const page3 = await json(await admin(`/deliveries?limit=2&cursor=${page2.nextCursor}`));
    const ids = [...all.items, ...page2.items, ...page3.items].map((d: { id: string }) => d.id);
    expect(new Set(ids).size).toBe(5);
    expect(page3.nextCursor).toBeNull();

    expect((await json(await admin("/deliveries?status=dead"))).items.map((d: { id: string }) => d.id)).toEqual([
      "list-3",
    ]);
    expect((await json(await admin("/deliveries?customer=list-c1"))).items.map((d: { id: string }) => d.id)).toEqual([
      "list-1",
    ]);
    expect(
      (await json(await admin("/deliveries?since=2000-01-01T00:00:00Z&until=2001-01-01T00:00:00Z"))).items,
    ).toEqual([]);
  });

  it("rejects bad filters with the offending path", async () => {
    const bad = await admin("/deliveries?status=lost&since=yesterday&cursor=nope");
    expect(bad.status).toBe(400);
    const paths = (await json(bad)).error.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["status", "since"]));
    const cursor = await admin("/deliveries?cursor=bm9wZQ");
    expect((await json(cursor)).error.issues[0].path).toBe("cursor");
  });

  it("shows one delivery with its commands, attempts and original event", async () => {
    const detail = await json(await admin("/deliveries/list-3"));
    expect(detail).toMatchObject({ id: "list-3", status: "dead", event: { id: "list-3", customerId: "list-c3" } });
    expect(detail.commands.map((c: { command: { name: string } }) => c.command.name)).toEqual([
      "customers",
      "customers/events",
    ]);
    expect(detail.attemptLog[0]).toMatchObject({ attempt: 1, target: "bloomreach", outcome: "dead", httpStatus: 200 });
    expect(detail.attemptLog[0].request).toHaveLength(2);
    expect(detail.attemptLog[0].response.results[1]).toMatchObject({ status: "dead" });
    expect((await admin("/deliveries/nope")).status).toBe(404);
  });

  it("lists accepted events not yet through the pipeline as pending", async () => {
    await env.DB.prepare(
      "insert into inbound_events (id, action, customer_id, payload, received_at) values ('waiting-1', 'opt_in', 'w', '{}', 1)",
    ).run();
    const pending = await json(await admin("/deliveries?status=pending"));
    expect(pending.items.map((d: { id: string; status: string }) => [d.id, d.status])).toEqual([
      ["waiting-1", "pending"],
    ]);
  });

  it("replays a dead delivery once it is fixed, and refuses to replay a delivered one", async () => {
    const recorder = recordingQueue(env.EVENTS_QUEUE as Queue<any>);
    const call = appWith(() => ({ queue: recorder.queue }));
    const refused = await call("/api/deliveries/list-1/replay", post());
    expect(refused.status).toBe(409);

    const replay = await call("/api/deliveries/list-3/replay", post());
    expect(replay.status).toBe(202);
    const message = v.parse(EventMessageSchema, recorder.sent[0]);
    expect(message).toMatchObject({ replay: true, event: { id: "list-3" } });
    expect((await deliveryRow("list-3"))?.status).toBe("retrying");
  });

  it("replays every dead delivery in a window, reporting progress", async () => {
    await env.DB.prepare("update deliveries set status = 'dead' where id in ('list-0', 'list-2')").run();
    const recorder = recordingQueue(env.EVENTS_QUEUE as Queue<any>);
    const call = appWith(() => ({ queue: recorder.queue }));
    const result = await json(await call("/api/deliveries/replay", post({ status: "dead", since: 0 })));
    expect(result).toEqual({ replayed: 2, remaining: 0 });
    expect(recorder.sent.map((m) => v.parse(EventMessageSchema, m).event.id).sort()).toEqual(["list-0", "list-2"]);
    const wrong = await call("/api/deliveries/replay", post({ status: "delivered" }));
    expect(wrong.status).toBe(400);
  });

  it("reads since/until in seconds, milliseconds or ISO-8601 alike, in the query and the replay body", async () => {
    const fakes = await setUpRelay({
      mapping: demoMapping,
      settings: { asyncSync: true, events: [{ action: "opt_in" }] },
    });
    restore = fakes.restore;
    await runQueue([asMessage(relayEvent({ id: "window-1", customerId: "window-c1" }))]);
    const [row] = (await json(await admin("/deliveries?customer=window-c1"))).items as { createdAt: number }[];
    const at = row!.createdAt;
    const iso = new Date(at * 1000).toISOString();
    const ids = async (query: string) =>
      (await json(await admin(`/deliveries?customer=window-c1&${query}`))).items.map((d: { id: string }) => d.id);
    for (const query of [`since=${at}&until=${at}`, `since=${at * 1000}&until=${at * 1000 + 999}`, `since=${iso}`])
      expect(await ids(query)).toEqual(["window-1"]);
    // A millisecond bound is not read as seconds (year 57,000), nor a second past the delivery as before it.
    expect(await ids(`since=${(at + 1) * 1000}`)).toEqual([]);
    expect(await ids(`until=${(at - 1) * 1000}`)).toEqual([]);
    expect((await admin(`/deliveries?since=${at}.5x`)).status).toBe(400);

    await env.DB.prepare("update deliveries set status = 'dead' where id = 'window-1'").run();
    const recorder = recordingQueue(env.EVENTS_QUEUE as Queue<any>);
    const call = appWith(() => ({ queue: recorder.queue }));
    const replay = async (body: unknown) => json(await call("/api/deliveries/replay", post(body)));
    expect(await replay({ status: "dead", since: (at + 1) * 1000 })).toEqual({ replayed: 0, remaining: 0 });
    expect(await replay({ status: "dead", since: at * 1000, until: `${at}` })).toEqual({ replayed: 1, remaining: 0 });
    expect(recorder.sent.map((m) => v.parse(EventMessageSchema, m).event.id)).toEqual(["window-1"]);
  });
});

describe("replay end to end", () => {
  it("sends only the refused command again when part of the event was delivered", async () => {
    const fakes = await setUpRelay();
    restore = fakes.restore;
    const before = fakes.bloomreach.commands.length;
    const replayed = await runQueue([
      { body: { type: "event", event: relayEvent({ id: "list-3", customerId: "list-c3" }), replay: true }, id: "r-1" },
    ]);
    expect(replayed.acked).toEqual(["r-1"]);
    expect(fakes.bloomreach.commands.slice(before).map((c) => c.name)).toEqual(["customers/events"]);
    expect((await deliveryRow("list-3"))?.status).toBe("delivered");
  });
});

describe("cron sweeper", () => {
  it("requeues accepted events whose hand-off was lost, once", async () => {
    const event = relayEvent({ id: "lost-1", customerId: "lost-c", receivedAt: 1000 });
    await env.DB.prepare(
      "insert into inbound_events (id, action, customer_id, payload, received_at) values (?, 'opt_in', 'lost-c', ?, 1000)",
    )
      .bind(event.id, JSON.stringify(event))
      .run();
    const recorder = recordingQueue(env.EVENTS_QUEUE as Queue<any>);
    const { createDeps } = await import("../src/composition");
    const { runScheduled } = await import("../src/cron/scheduled");
    const controller = createScheduledController({ scheduledTime: new Date(2_000_000 * 1000), cron: "* * * * *" });
    await runScheduled(controller, { ...createDeps(env), queue: recorder.queue });
    expect(recorder.sent.map((m) => v.parse(EventMessageSchema, m).event.id)).toContain("lost-1");
    expect(await deliveryRow("lost-1")).toMatchObject({ status: "retrying" });

    // A second tick soon after leaves it to the queue rather than sending it again.
    const count = recorder.sent.length;
    await runScheduled(createScheduledController({ scheduledTime: new Date(2_000_060 * 1000), cron: "* * * * *" }), {
      ...createDeps(env),
      queue: recorder.queue,
    });
    expect(recorder.sent.length).toBe(count);
  });

  it("prunes log rows past the retention through the Worker's scheduled handler", async () => {
    await env.DB.prepare(
      "insert into deliveries (id, event_id, customer_id, action, status, created_at, updated_at) values ('ancient', 'ancient', 'c', 'opt_in', 'delivered', 1, 1)",
    ).run();
    await worker.scheduled(createScheduledController({ scheduledTime: new Date(), cron: "* * * * *" }), env, {
      waitUntil() {},
      passThroughOnException() {},
      props: {},
    } as unknown as ExecutionContext);
    expect(await deliveryRow("ancient")).toBeNull();
    expect(await deliveryRow("list-1")).not.toBeNull();
  });
});
