import { env } from "cloudflare:test";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { EventMessageSchema } from "../src/domain/queue-message";
import { appWith, failingQueue, recordingQueue } from "./support/app";
import { optInEvent } from "./support/fixtures";
import { basicAuth, json, postWebhook } from "./support/http";

const request = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", authorization: basicAuth() },
  body: JSON.stringify(body),
});

async function inboundCount(id: string) {
  const row = await env.DB.prepare("select count(*) as n from inbound_events where id = ?")
    .bind(id)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("webhook ingest hand-off", () => {
  it("sends one validated queue message per new event, in Unix seconds", async () => {
    const recorder = recordingQueue(env.EVENTS_QUEUE as Queue<any>);
    const post = appWith(() => ({ queue: recorder.queue }));
    const event = optInEvent({ id: "shape-1", created_at: "2026-01-01T00:00:00Z" });
    const response = await post("/webhooks/antavo", request(event));
    expect(response.status).toBe(202);
    expect(await json(response)).toEqual({ accepted: 1, duplicates: 0, ids: ["shape-1"] });

    expect(recorder.sent).toHaveLength(1);
    const message = v.parse(EventMessageSchema, recorder.sent[0]);
    expect(message.event).toMatchObject({
      id: "shape-1",
      action: "opt_in",
      customerId: "cust-1",
      customer: { email: "Ada.Lovelace@Example.com" },
      data: { points: 50 },
      createdAt: 1_767_225_600,
    });
  });

  it("reads millisecond timestamps as seconds", async () => {
    const recorder = recordingQueue(env.EVENTS_QUEUE as Queue<any>);
    const post = appWith(() => ({ queue: recorder.queue }));
    await post("/webhooks/antavo", request(optInEvent({ id: "ms-1", created_at: 1_767_225_600_123 })));
    expect(v.parse(EventMessageSchema, recorder.sent[0]).event.createdAt).toBe(1_767_225_600);
  });

  it("recognises a redelivery by id and does not enqueue it again", async () => {
    const recorder = recordingQueue(env.EVENTS_QUEUE as Queue<any>);
    const post = appWith(() => ({ queue: recorder.queue }));
    const event = optInEvent({ id: "redelivered" });
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await json(await post("/webhooks/antavo", request(event))));
    expect(answers[0]).toMatchObject({ accepted: 1, duplicates: 0 });
    for (const answer of answers.slice(1))
      expect(answer).toMatchObject({ accepted: 0, duplicates: 1, ids: ["redelivered"] });
    expect(recorder.sent).toHaveLength(1);
  });

  it("recognises a redelivery without id by its canonical body, whatever the key order", async () => {
    const recorder = recordingQueue(env.EVENTS_QUEUE as Queue<any>);
    const post = appWith(() => ({ queue: recorder.queue }));
    const first = { action: "point_add", customer: "cust-9", data: { points: 5, reason: "bonus" } };
    const reordered = { data: { reason: "bonus", points: 5 }, customer: "cust-9", action: "point_add" };
    const a = await json(await post("/webhooks/antavo", request(first)));
    const b = await json(await post("/webhooks/antavo", request(reordered)));
    expect(a.accepted).toBe(1);
    expect(b).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(b.ids).toEqual(a.ids);
    expect(recorder.sent).toHaveLength(1);
  });

  it("counts a repeated event inside one batch once", async () => {
    const response = await postWebhook({ events: [optInEvent({ id: "twice" }), optInEvent({ id: "twice" })] });
    expect(await json(response)).toMatchObject({ accepted: 1, duplicates: 1 });
  });

  it("answers 503 when the queue cannot take the event, and forgets it so Antavo's retry is accepted", async () => {
    const down = appWith(() => ({ queue: failingQueue() }));
    const event = optInEvent({ id: "outage-1" });
    const failed = await down("/webhooks/antavo", request(event));
    expect(failed.status).toBe(503);
    expect((await json(failed)).error.code).toBe("unavailable");
    expect(await inboundCount("outage-1")).toBe(0);

    const recorder = recordingQueue(env.EVENTS_QUEUE as Queue<any>);
    const up = appWith(() => ({ queue: recorder.queue }));
    const retried = await up("/webhooks/antavo", request(event));
    expect(retried.status).toBe(202);
    expect(await json(retried)).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(recorder.sent).toHaveLength(1);
    expect(await inboundCount("outage-1")).toBe(1);
  });

  it("stores nothing for an invalid batch", async () => {
    const response = await postWebhook({ events: [optInEvent({ id: "valid-in-bad-batch" }), { action: "" }] });
    expect(response.status).toBe(400);
    expect(await inboundCount("valid-in-bad-batch")).toBe(0);
  });
});
