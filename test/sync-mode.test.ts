import { env } from "cloudflare:test";
import * as v from "valibot";
import { afterEach, describe, expect, it, vi } from "vitest";
import { EventMessageSchema } from "../src/domain/queue-message";
import { appWith, recordingQueue } from "./support/app";
import { demoMapping, optInEvent } from "./support/fixtures";
import { basicAuth, json } from "./support/http";
import { deliveryRow, setUpRelay } from "./support/pipeline";

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

const webhook = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", authorization: basicAuth() },
  body: JSON.stringify(body),
});

async function syncRelay() {
  const fakes = await setUpRelay({
    mapping: demoMapping,
    settings: { asyncSync: false, events: [{ action: "opt_in", remoteEvent: "loyalty_opt_in" }] },
  });
  restore = fakes.restore;
  const recorder = recordingQueue(env.EVENTS_QUEUE as Queue<any>);
  return { ...fakes, recorder, post: appWith(() => ({ queue: recorder.queue })) };
}

describe("sync mode (asyncSync: false)", () => {
  it("delivers before answering and returns the outcome", async () => {
    const { bloomreach, recorder, post } = await syncRelay();
    const response = await post("/webhooks/antavo", webhook(optInEvent({ id: "sync-1" })));
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ results: [{ id: "sync-1", status: "delivered" }] });
    expect(bloomreach.events()).toHaveLength(1);
    expect(recorder.sent).toHaveLength(0);
    expect((await deliveryRow("sync-1"))?.status).toBe("delivered");
  });

  it("reports a redelivery as a duplicate without sending it again", async () => {
    const { bloomreach, post } = await syncRelay();
    await post("/webhooks/antavo", webhook(optInEvent({ id: "sync-dup" })));
    const again = await post("/webhooks/antavo", webhook(optInEvent({ id: "sync-dup" })));
    expect(await json(again)).toEqual({ results: [{ id: "sync-dup", status: "duplicate" }] });
    expect(bloomreach.events().filter((e) => e.event_type === "loyalty_opt_in")).toHaveLength(1);
  });

  it("answers a permanent refusal with the reason", async () => {
    const { bloomreach, post } = await syncRelay();
    bloomreach.failCommands((c) => c.name === "customers/events", "Event type is invalid");
    const response = await post(
      "/webhooks/antavo",
      webhook(optInEvent({ id: "sync-dead", customer: { id: "sync-dead-c", email: "dead@example.com" } })),
    );
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body.results[0]).toMatchObject({ id: "sync-dead", status: "dead" });
    expect(body.results[0].error).toMatch(/Event type is invalid/);
  });

  it("falls back to the queue on a transient failure: 202, nothing lost", async () => {
    const { bloomreach, recorder, post } = await syncRelay();
    bloomreach.script({ status: 503 });
    const response = await post(
      "/webhooks/antavo",
      webhook(optInEvent({ id: "sync-later", customer: { id: "sync-later-c", email: "later@example.com" } })),
    );
    expect(response.status).toBe(202);
    expect(await json(response)).toMatchObject({
      accepted: 1,
      duplicates: 0,
      ids: ["sync-later"],
      results: [{ id: "sync-later", status: "retry" }],
    });
    expect(recorder.sent.map((m) => v.parse(EventMessageSchema, m).event.id)).toEqual(["sync-later"]);
    expect((await deliveryRow("sync-later"))?.status).toBe("retrying");
  });
});

describe("the request's log scope", () => {
  it("gives the lines services log during a request that request's id", async () => {
    const { post } = await syncRelay();
    const lines: Record<string, unknown>[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      if (typeof line === "string" && line.startsWith("{")) lines.push(JSON.parse(line));
    });
    let response: Response;
    try {
      response = await post("/webhooks/antavo", webhook(optInEvent({ id: "scope-1" })));
    } finally {
      spy.mockRestore();
    }
    expect(response.status).toBe(200);
    const requestId = response.headers.get("x-request-id");
    expect(requestId).toBeTruthy();
    // Sync mode delivers inside the request: the delivery stage's own line carries its id.
    const batch = lines.find((l) => l.message === "delivery batch");
    expect(batch).toMatchObject({ requestId, events: 1, outcomes: { delivered: 1 } });
  });
});
