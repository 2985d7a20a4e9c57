import { describe, expect, it } from "vitest";
import { optInEvent } from "./support/fixtures";
import { json, postWebhook } from "./support/http";

describe("webhook body validation", () => {
  it("answers 400 invalid_body for malformed JSON", async () => {
    const response = await postWebhook(undefined, { raw: '{"action": "opt_in",' });
    expect(response.status).toBe(400);
    expect((await json(response)).error.code).toBe("invalid_body");
  });

  it("names the path of a missing action", async () => {
    const { action: _, ...event } = optInEvent();
    const response = await postWebhook(event);
    expect(response.status).toBe(400);
    const body = await json(response);
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.issues).toContainEqual(expect.objectContaining({ path: "action" }));
  });

  it("names the paths of wrong types inside a batch", async () => {
    const response = await postWebhook({
      events: [optInEvent(), { action: 5, customer: { email: "x" }, data: "nope", created_at: "yesterday" }],
    });
    expect(response.status).toBe(400);
    const paths = (await json(response)).error.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining(["events.1.action", "events.1.customer", "events.1.data", "events.1.created_at"]),
    );
  });

  it("answers 413 for a body one byte over 1 MiB", async () => {
    const event = optInEvent({ data: { blob: "" } });
    const base = JSON.stringify(event).length;
    const raw = JSON.stringify({ ...event, data: { blob: "x".repeat(1024 * 1024 + 1 - base) } });
    expect(new TextEncoder().encode(raw).length).toBe(1024 * 1024 + 1);
    const response = await postWebhook(undefined, { raw });
    expect(response.status).toBe(413);
    expect((await json(response)).error.code).toBe("payload_too_large");
  });

  it("answers 415 for text/plain", async () => {
    const response = await postWebhook(optInEvent(), { contentType: "text/plain" });
    expect(response.status).toBe(415);
    expect((await json(response)).error.code).toBe("unsupported_media_type");
  });

  it("refuses 101 events and accepts 100", async () => {
    const events = (n: number, prefix: string) =>
      Array.from({ length: n }, (_, i) => optInEvent({ id: `${prefix}-${i}` }));
    const tooMany = await postWebhook({ events: events(101, "too-many") });
    expect(tooMany.status).toBe(400);
    expect((await json(tooMany)).error.issues[0].path).toBe("events");
    const hundred = await postWebhook({ events: events(100, "hundred") });
    expect(hundred.status).toBe(202);
    expect(await json(hundred)).toMatchObject({ accepted: 100, duplicates: 0 });
  });

  it("reads form-encoded bodies with nested bracket keys", async () => {
    const raw = new URLSearchParams({
      action: "checkout",
      "customer[id]": "cust-form",
      "customer[email]": "form@example.com",
      "data[total]": "12.5",
      "data[items][0][product_id]": "p-1",
      "data[items][0][quantity]": "2",
      "data[items][1][product_id]": "p-2",
      created_at: "1767225600",
    }).toString();
    const response = await postWebhook(undefined, { contentType: "application/x-www-form-urlencoded", raw });
    expect(response.status).toBe(202);
    const body = await json(response);
    expect(body.accepted).toBe(1);
    expect(body.ids[0]).toMatch(/^evt-[0-9a-f]{16}-\d+-[0-9a-f]{8}$/);
  });

  it("refuses a form field whose brackets conflict", async () => {
    const raw = "action=x&customer=c&data[a]=1&data[a][b]=2";
    const response = await postWebhook(undefined, { contentType: "application/x-www-form-urlencoded", raw });
    expect(response.status).toBe(400);
    expect((await json(response)).error.issues[0].path).toBe("data[a][b]");
  });
});

describe("queue message size", () => {
  it("answers 413 with the path for an event too large for one queue message, and accepts one just under", async () => {
    const under = await postWebhook(optInEvent({ id: "size-ok", data: { blob: "x".repeat(110_000) } }));
    expect(under.status).toBe(202);
    const over = await postWebhook(optInEvent({ id: "size-big", data: { blob: "é".repeat(70_000) } }));
    expect(over.status).toBe(413);
    expect((await json(over)).error.issues[0].message).toMatch(/at most 120000 fit in one queue message/);
  });
});
