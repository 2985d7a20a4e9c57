import { env, SELF } from "cloudflare:test";
import * as v from "valibot";
import { afterEach, describe, expect, it } from "vitest";
import { createDeps } from "../src/composition";
import { EventMessageSchema } from "../src/domain/queue-message";
import { deliverEvents } from "../src/services/deliver";
import { appWith, recordingQueue } from "./support/app";
import { demoMapping } from "./support/fixtures";
import { admin, json, secrets } from "./support/http";
import { asMessage, BLOOMREACH, deliveryRow, relayEvent, runQueue, setUpRelay } from "./support/pipeline";

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

/** The relay set up to sync opt_in events to the fake Bloomreach, restored after the test. */
async function syncingRelay() {
  const fakes = await setUpRelay({
    mapping: demoMapping,
    settings: { asyncSync: true, events: [{ action: "opt_in" }] },
  });
  restore = fakes.restore;
  return fakes;
}

const adminRequest = (method: string, body?: unknown): RequestInit => ({
  method,
  headers: { authorization: `Bearer ${secrets.adminToken}`, "content-type": "application/json" },
  ...(body ? { body: JSON.stringify(body) } : {}),
});

describe("paused delivery", () => {
  // Storage is per file: this runs before any connection exists.
  it("parks events while no connection is configured", async () => {
    const result = await runQueue([asMessage(relayEvent({ id: "parked-0", customerId: "parked-c0" }))]);
    expect(result.acked).toEqual(["msg-parked-0"]);
    expect(await deliveryRow("parked-0")).toMatchObject({
      status: "paused",
      last_error: "the Bloomreach connection is not configured",
    });
  });

  it("pauses on 401 instead of burning retries, parks later events without calling, and resumes when the connection is saved", async () => {
    const fakes = await syncingRelay();
    fakes.bloomreach.script({ status: 401, body: { success: false, error: "Unknown API key" } });

    const first = await runQueue([asMessage(relayEvent({ id: "auth-1", customerId: "auth-c1" }))]);
    expect(first.acked).toEqual(["msg-auth-1"]);
    expect(await deliveryRow("auth-1")).toMatchObject({ status: "paused" });
    const connection = await json(await admin("/connection"));
    expect(connection).toMatchObject({ deliveryState: "paused" });
    expect(connection.pausedReason).toMatch(/401 from Bloomreach/);

    const callsWhilePaused = fakes.bloomreach.calls;
    await runQueue([asMessage(relayEvent({ id: "auth-2", customerId: "auth-c2" }))]);
    expect(fakes.bloomreach.calls).toBe(callsWhilePaused);
    expect(await deliveryRow("auth-2")).toMatchObject({ status: "paused" });

    // The admin fixes the credentials: the parked events go back on the queue.
    const recorder = recordingQueue(env.EVENTS_QUEUE as Queue<any>);
    const call = appWith(() => ({ queue: recorder.queue }));
    const saved = await json(await call("/api/connection", adminRequest("PUT", BLOOMREACH)));
    expect(saved).toMatchObject({ deliveryState: "active", requeued: 2 });
    expect(recorder.sent.map((m) => v.parse(EventMessageSchema, m).event.id).sort()).toEqual(["auth-1", "auth-2"]);

    const again = await runQueue(
      recorder.sent.map((body) => ({ body, attempts: 1, id: `re-${v.parse(EventMessageSchema, body).event.id}` })),
    );
    expect(again.acked).toHaveLength(recorder.sent.length);
    expect(await deliveryRow("auth-1")).toMatchObject({ status: "delivered" });
    expect(await deliveryRow("auth-2")).toMatchObject({ status: "delivered" });
    expect(
      fakes.bloomreach.events().filter((e) => (e.customer_ids.registered ?? "").startsWith("auth-c")),
    ).toHaveLength(2);
  });

  it("pauses on 403 and resumes when the connection test passes", async () => {
    const fakes = await syncingRelay();
    fakes.bloomreach.script({ status: 403, body: { success: false, errors: ["No permission to set events"] } });
    await runQueue([asMessage(relayEvent({ id: "perm-1", customerId: "perm-c" }))]);
    expect(await json(await admin("/connection"))).toMatchObject({ deliveryState: "paused" });

    const recorder = recordingQueue(env.EVENTS_QUEUE as Queue<any>);
    const call = appWith(() => ({ queue: recorder.queue }));
    const test = await json(await call("/api/connection/test", adminRequest("POST")));
    expect(test.ok).toBe(true);
    expect(test.checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok])).toEqual([
      ["reachability", true],
      ["credentials", true],
      ["permissions", true],
    ]);
    expect(test.resumed).toBe(1);
    expect(recorder.sent.map((m) => v.parse(EventMessageSchema, m).event.id)).toEqual(["perm-1"]);
    expect(await json(await admin("/connection"))).toMatchObject({ deliveryState: "active" });
  });
});

describe("connection test", () => {
  it("holds a body sent as any content type to the input limits", async () => {
    const response = await SELF.fetch("https://relay.test/api/connection/test", {
      method: "POST",
      headers: { authorization: `Bearer ${secrets.adminToken}`, "content-type": "text/plain" },
      body: '{"baseUrl": "https://api.exponea.com", "__proto__": {"polluted": true}}',
    });
    expect(response.status).toBe(400);
    const body = await json(response);
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.issues).toEqual([expect.objectContaining({ message: '"__proto__" is a reserved name' })]);
  });

  it("says which check failed and why", async () => {
    const fakes = await setUpRelay();
    restore = fakes.restore;
    fakes.bloomreach.withoutGetPermission();
    const response = await admin("/connection/test", { method: "POST" });
    expect(response.status).toBe(200);
    const result = await json(response);
    expect(result.ok).toBe(false);
    expect(result.checks.find((c: { name: string }) => c.name === "permissions")).toMatchObject({ ok: false });
    expect(JSON.stringify(result)).not.toContain(BLOOMREACH.apiSecret);
  });
});

describe("a pause that cannot be written", () => {
  it("still logs the batch: the events are parked and the next batch pauses", async () => {
    const fakes = await syncingRelay();
    fakes.bloomreach.script({ status: 401, body: { success: false, error: "Unknown API key" } });
    const real = createDeps(env);
    // Updates fail (the pause is the delivery's only one); reads and the log's batch work.
    const db = new Proxy(real.db, {
      get(target, prop, receiver) {
        if (prop === "update")
          return () => {
            throw new Error("D1 is read-only right now");
          };
        return Reflect.get(target, prop, receiver);
      },
    });
    const event = relayEvent({ id: "pause-fail-1", customerId: "pause-fail-c" });
    const report = await deliverEvents({ ...real, db }, [{ event, attempt: 1 }]);
    expect(report.logged).toBe(true);
    expect(report.outcomes.get(event.id)?.status).toBe("paused");
    expect(await deliveryRow("pause-fail-1")).toMatchObject({ status: "paused" });
    // Not paused in D1 (that write failed): the next batch meets the 401 again and pauses then.
    const connection = await json(await SELF.fetch("https://relay.test/api/connection", adminRequest("GET")));
    expect(connection.deliveryState).not.toBe("paused");
  });
});
