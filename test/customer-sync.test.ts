import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS } from "../src/domain/config";
import type { PlanConfig } from "../src/domain/plan-event";
import type { CustomerSync } from "../src/durable/customer-sync";
import { relayEvent } from "./support/pipeline";

const config: PlanConfig = {
  mapping: {
    hardId: { loyaltyField: "email", remoteId: "registered" },
    fields: [{ loyaltyField: "score", remoteField: "loyalty_points" }],
  },
  settings: {
    ...DEFAULT_SETTINGS,
    asyncSync: true,
    events: [{ action: "opt_in", remoteEvent: "loyalty_opt_in" }],
  },
  workflows: [],
};

const stubFor = (customerId: string) =>
  env.CUSTOMER_SYNC.get(env.CUSTOMER_SYNC.idFromName(customerId)) as unknown as DurableObjectStub<CustomerSync>;

describe("CustomerSync object", () => {
  it("keeps a planned event's commands until Bloomreach's answer is recorded, then knows it as settled", async () => {
    const stub = stubFor("do-c1");
    await runInDurableObject(stub, async (instance: CustomerSync) => {
      const event = relayEvent({ id: "do-1", customerId: "do-c1" });
      const {
        replies: [planned],
      } = await instance.plan({ config, events: [event], canEnrich: false, now: 1_767_225_600 });
      expect(planned).toMatchObject({ kind: "send" });
      expect(planned!.pending.map((c) => c.id)).toEqual(["do-1#0", "do-1#1"]);

      // A retry before any answer resends exactly the same commands.
      const {
        replies: [again],
      } = await instance.plan({ config, events: [event], canEnrich: false, now: 1_767_225_700 });
      expect(again!.pending).toEqual(planned!.pending);

      await instance.settle([{ eventId: "do-1", delivered: ["do-1#0", "do-1#1"], dead: [] }]);
      const {
        replies: [settled],
      } = await instance.plan({ config, events: [event], canEnrich: false, now: 1_767_225_800 });
      expect(settled).toMatchObject({ kind: "settled", outcome: { status: "delivered" }, pending: [] });
      const state = await instance.inspect("do-1");
      expect(state.fields).toEqual({ loyalty_points: { value: "100", at: 1_767_225_600 } });
    });
  });

  it("sends a refused field again with the next update", async () => {
    const stub = stubFor("do-c2");
    await runInDurableObject(stub, async (instance: CustomerSync) => {
      const first = relayEvent({ id: "do-2", customerId: "do-c2", action: "point_add" });
      await instance.plan({ config, events: [first], canEnrich: false, now: 1 });
      await instance.settle([
        { eventId: "do-2", delivered: [], dead: [{ id: "do-2#0", error: "Property value too long" }] },
      ]);
      const second = relayEvent({ id: "do-3", customerId: "do-c2", action: "point_add", createdAt: 1_767_225_700 });
      const {
        replies: [reply],
      } = await instance.plan({ config, events: [second], canEnrich: false, now: 2 });
      expect(reply!.pending.map((c) => c.command.data)).toEqual([
        expect.objectContaining({ properties: { loyalty_points: 100 } }),
      ]);
    });
  });

  it("prunes settled event records past the retention on its alarm, and re-arms while records remain", async () => {
    const stub = stubFor("do-c3");
    const oldEvent = relayEvent({ id: "do-old", customerId: "do-c3" });
    const nowSeconds = Math.floor(Date.now() / 1000);
    await runInDurableObject(stub, async (instance: CustomerSync) => {
      await instance.plan({ config, events: [oldEvent], canEnrich: false, now: nowSeconds - 40 * 24 * 3600 });
      await instance.settle([{ eventId: "do-old", delivered: ["do-old#0", "do-old#1"], dead: [] }]);
      await instance.plan({
        config,
        events: [relayEvent({ id: "do-new", customerId: "do-c3", createdAt: 1_767_225_700 })],
        canEnrich: false,
        now: nowSeconds,
      });
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await runInDurableObject(stub, async (instance: CustomerSync, state) => {
      expect((await instance.inspect("do-old")).event).toBeUndefined();
      expect((await instance.inspect("do-new")).event).toBeDefined();
      expect(await state.storage.getAlarm()).not.toBeNull();
    });
  });
});

describe("date runs", () => {
  it("plan with the mirror's copy of the customer but never store it over the object's newer one", async () => {
    const stub = stubFor("do-c4");
    await runInDurableObject(stub, async (instance: CustomerSync) => {
      await instance.plan({
        config,
        events: [
          relayEvent({ id: "do-live", customerId: "do-c4", customer: { email: "new@example.com", score: 500 } }),
        ],
        canEnrich: false,
        now: 1,
      });
      const stale = relayEvent({
        id: "date:wf:do-c4:2026-01-01",
        customerId: "do-c4",
        customer: { email: "old@example.com", score: 1 },
        createdAt: 1_800_000_000,
        dateRun: { workflowId: "wf", occurrence: "2026-01-01" },
      });
      await instance.plan({ config, events: [stale], canEnrich: false, now: 2 });
      expect((await instance.inspect()).snapshot?.data).toMatchObject({ email: "new@example.com", score: 500 });
    });
  });

  it("keeps the config by version, so a caller sends it only to an object that lacks it", async () => {
    const stub = stubFor("do-config");
    await runInDurableObject(stub, async (instance: CustomerSync) => {
      const event = relayEvent({ id: "cfg-1", customerId: "do-config" });
      const call = { events: [event], canEnrich: false, now: 1 };
      expect(await instance.plan({ ...call, configVersion: "v1" })).toEqual({ needsConfig: true });
      expect(await instance.plan({ ...call, configVersion: "v1", config })).toHaveProperty("replies");
      expect(await instance.plan({ ...call, configVersion: "v1" })).toHaveProperty("replies");
      expect(await instance.plan({ ...call, configVersion: "v2" })).toEqual({ needsConfig: true });
    });
  });

  it("plans 60 events and applies 100 carried settlements in one call (storage calls in runs of 128 keys)", async () => {
    await runInDurableObject(stubFor("do-many"), async (instance: CustomerSync) => {
      const events = Array.from({ length: 100 }, (_, i) =>
        relayEvent({ id: `many-${i}`, customerId: "do-many", createdAt: 1_767_225_600 + i }),
      );
      await instance.plan({ config, events, canEnrich: false, now: 1_767_225_600 });
      const later = Array.from({ length: 60 }, (_, i) =>
        relayEvent({ id: `later-${i}`, customerId: "do-many", createdAt: 1_767_226_000 + i }),
      );
      // 60 new events and the settlements of the first 100 carried with them: 160 event records.
      const settlements = events.map((e) => ({
        eventId: e.id,
        run: 0,
        delivered: [`${e.id}#0`, `${e.id}#1`],
        dead: [],
      }));
      const { replies } = await instance.plan({
        config,
        events: later,
        settlements,
        canEnrich: false,
        now: 1_767_226_100,
      });
      expect(replies).toHaveLength(60);
      expect((await instance.inspect("many-99")).event?.outcome).toEqual({ status: "delivered" });
      expect((await instance.inspect("later-59")).event?.state).toBe("planned");
    });
  });

  it("refuses a malformed claim request before it touches storage", async () => {
    const stub = stubFor("do-claims");
    await runInDurableObject(stub, async (instance: CustomerSync) => {
      await expect(instance.startClaims([{ eventId: "", key: "wf:0" }], 1)).rejects.toThrow();
      await expect(
        instance.startClaims([{ eventId: "e-1", key: "wf:0" }], "soon" as unknown as number),
      ).rejects.toThrow();
      // A well-formed request for an event the object does not know takes nothing.
      expect(await instance.startClaims([{ eventId: "e-1", key: "wf:0" }], 1)).toEqual({
        starts: [{ eventId: "e-1", key: "wf:0", verdict: "done" }],
        replies: [],
      });
      expect(await instance.dumpStorage()).toEqual({});
    });
  });
});
