/**
 * The Bloomreach sandbox's failures on purpose, in plain Node (`npm run test:dev`): the sandbox is
 * a node:http server, which the workerd suite cannot start. Each mode answers what the relay's
 * client reads as retry (429 with Retry-After, 500), dead (one command refused inside a 200) or a
 * pause (401), for exactly the calls asked for, and then the sandbox answers normally again.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { startBloomreachSandbox } from "../../src/dev/bloomreach-sandbox.mjs";
import { parseFailureFlag } from "../../src/dev/sandbox-failures.mjs";

const CREDENTIALS = { projectToken: "p-test", apiKeyId: "k-test", apiSecret: "s-test" };
const AUTH = `Basic ${Buffer.from("k-test:s-test").toString("base64")}`;

let sandbox;
before(async () => {
  sandbox = await startBloomreachSandbox({ port: 0, ...CREDENTIALS });
});
after(() => sandbox.close());
beforeEach(() => sandbox.fail({ times: 0 }));

const event = (i) => ({
  name: "customers/events",
  data: { customer_ids: { registered: `c${i}@example.com` }, event_type: "loyalty_opt_in", timestamp: 1_767_225_600 },
});

async function batch(count) {
  const response = await fetch(`${sandbox.url}/track/v2/projects/p-test/batch`, {
    method: "POST",
    headers: { authorization: AUTH, "content-type": "application/json" },
    body: JSON.stringify({ commands: Array.from({ length: count }, (_, i) => event(i)) }),
  });
  return { status: response.status, retryAfter: response.headers.get("retry-after"), body: await response.json() };
}

async function postBatch(commands) {
  const response = await fetch(`${sandbox.url}/track/v2/projects/p-test/batch`, {
    method: "POST",
    headers: { authorization: AUTH, "content-type": "application/json" },
    body: JSON.stringify({ commands }),
  });
  return { status: response.status, body: await response.json() };
}

const properties = (email) => ({
  name: "customers",
  data: { customer_ids: { registered: email }, properties: { first_name: "A" }, update_timestamp: 1_767_225_600 },
});

const tierEvent = (email, tier) => ({
  name: "customers/events",
  data: { customer_ids: { registered: email }, event_type: `loyalty_tier_${tier}`, timestamp: 1_767_225_600 },
});

const postFail = (query) => fetch(`${sandbox.url}/fail?${query}`, { method: "POST" });

describe("Bloomreach sandbox: failures on purpose", () => {
  it("429 answers the next calls with Retry-After, then normally", async () => {
    assert.equal((await postFail("status=429&times=2&retryAfter=7")).status, 200);
    for (let i = 0; i < 2; i++) {
      const answer = await batch(1);
      assert.equal(answer.status, 429);
      assert.equal(answer.retryAfter, "7");
      assert.equal(answer.body.success, false);
    }
    assert.equal((await batch(1)).status, 200);
  });

  it("500 fails exactly the asked number of calls, without Retry-After", async () => {
    await postFail("status=500&times=1");
    const failed = await batch(1);
    assert.equal(failed.status, 500);
    assert.equal(failed.retryAfter, null);
    assert.deepEqual((await batch(1)).body.results, [{ success: true }]);
  });

  it("refuse-command answers 200 with Bloomreach's per-command refusal for that command only", async () => {
    await postFail("mode=refuse-command&command=2");
    const answer = await batch(3);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.success, true);
    assert.deepEqual(answer.body.results[0], { success: true });
    assert.equal(answer.body.results[1].success, false);
    assert.ok(Array.isArray(answer.body.results[1].errors) && answer.body.results[1].errors.length === 1);
    assert.deepEqual(answer.body.results[2], { success: true });
    assert.ok(
      (await batch(3)).body.results.every((r) => r.success === true),
      "only the next batch is refused",
    );
  });

  it("refuse-command refuses the last command of a batch shorter than its place", async () => {
    sandbox.fail({ mode: "refuse-command", command: 5 });
    const answer = await batch(2);
    assert.deepEqual(
      answer.body.results.map((r) => r.success),
      [true, false],
    );
  });

  it("refuse-command by event type refuses that event wherever it is, and waits for a batch that has one", async () => {
    assert.equal((await postFail("mode=refuse-command&eventType=loyalty_tier_gold")).status, 200);
    const without = await postBatch([properties("ada@example.com"), tierEvent("ada@example.com", "silver")]);
    assert.deepEqual(
      without.body.results.map((r) => r.success),
      [true, true],
      "a batch without the event is accepted",
    );
    assert.equal(sandbox.failing().eventType, "loyalty_tier_gold", "the plan waits for the event");

    const answer = await postBatch([
      properties("ada@example.com"),
      tierEvent("ada@example.com", "silver"),
      tierEvent("ada@example.com", "gold"),
      properties("bob@example.com"),
    ]);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.success, true);
    assert.deepEqual(answer.body.results[0], { success: true });
    assert.deepEqual(answer.body.results[1], { success: true });
    // Bloomreach's own per-command refusal (docs/vendor-apis.md), naming what was refused and where.
    assert.deepEqual(answer.body.results[2], {
      success: false,
      errors: ["sandbox refusal on purpose (the event loyalty_tier_gold, command 3 of the batch)"],
    });
    assert.deepEqual(answer.body.results[3], { success: true });
    assert.equal(sandbox.failing().mode, "normal", "one time refuses one command");
    const again = await postBatch([tierEvent("ada@example.com", "gold")]);
    assert.deepEqual(again.body.results, [{ success: true }]);
  });

  it("refuse-command by customer id value refuses that customer's next command, of any kind", async () => {
    sandbox.fail({ mode: "refuse-command", customer: "bob@example.com" });
    const answer = await postBatch([tierEvent("ada@example.com", "gold"), properties("bob@example.com")]);
    assert.deepEqual(
      answer.body.results.map((r) => r.success),
      [true, false],
    );
    assert.match(answer.body.results[1].errors[0], /\(a command for bob@example\.com, command 2 of the batch\)/);
  });

  it("refuse-command by event type and customer refuses only both; times counts refused commands", async () => {
    await postFail("mode=refuse-command&event_type=loyalty_tier_gold&customer=bob@example.com&times=2");
    assert.match(
      (await (await fetch(`${sandbox.url}/fail`)).json()).description,
      /next 2 events loyalty_tier_gold for bob@example\.com are refused/,
    );
    const first = await postBatch([
      tierEvent("ada@example.com", "gold"),
      properties("bob@example.com"),
      tierEvent("bob@example.com", "gold"),
      tierEvent("bob@example.com", "gold"),
      tierEvent("bob@example.com", "gold"),
    ]);
    assert.deepEqual(
      first.body.results.map((r) => r.success),
      [true, true, false, false, true],
    );
    assert.equal(sandbox.failing().mode, "normal");
  });

  it("refuse-command by event type applies to the single-event route too", async () => {
    await postFail("mode=refuse-command&eventType=loyalty_tier_gold");
    const response = await fetch(`${sandbox.url}/track/v2/projects/p-test/customers/events`, {
      method: "POST",
      headers: { authorization: AUTH, "content-type": "application/json" },
      body: JSON.stringify(tierEvent("ada@example.com", "gold").data),
    });
    assert.deepEqual(await response.json(), {
      success: false,
      errors: ["sandbox refusal on purpose (the event loyalty_tier_gold, a single command)"],
    });
  });

  it("refuse-command takes a place or what the command is, not both; the page's form takes either", async () => {
    const both = await postFail("mode=refuse-command&command=2&eventType=loyalty_tier_gold");
    assert.equal(both.status, 400);
    assert.match((await both.json()).message, /not both/);
    assert.equal(sandbox.failing().mode, "normal");

    const form = (body) =>
      fetch(`${sandbox.url}/fail`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body,
        redirect: "manual",
      });
    // The form posts every field; the blank ones are not given.
    const set = await form("mode=refuse-command&eventType=loyalty_tier_gold&customer=&command=&times=1");
    assert.equal(set.status, 303);
    const page = await (await fetch(`${sandbox.url}/`)).text();
    assert.match(page, /The next event loyalty_tier_gold is refused/);
    assert.match(page, /<label for="frefuse-event">Event type/);
    assert.match(page, /<label for="frefuse-customer">Customer id value/);
    assert.match(page, /<label for="frefuse-command">Or: command in the batch/);

    const byPlace = await form("mode=refuse-command&eventType=&customer=&command=2&times=1");
    assert.equal(byPlace.status, 303);
    assert.deepEqual(sandbox.failing(), { mode: "refuse-command", command: 2, remaining: 1 });
    const blank = await form("mode=refuse-command&eventType=&customer=&command=&times=1");
    assert.equal(blank.status, 303);
    assert.deepEqual(sandbox.failing(), { mode: "refuse-command", command: 1, remaining: 1 });
    const refused = await form("mode=refuse-command&eventType=loyalty_tier_gold&command=1&times=1");
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /not both/);
  });

  it("401 refuses the credentials, and never the connection test's time check", async () => {
    await postFail("status=401&times=1");
    const time = await fetch(`${sandbox.url}/track/v2/projects/p-test/system/time`);
    assert.equal(time.status, 200);
    assert.equal((await batch(1)).status, 401);
    assert.equal((await batch(1)).status, 200);
  });

  it("times=0 goes back to normal; a bad value is refused in words", async () => {
    await postFail("status=500&times=5");
    await postFail("times=0");
    assert.equal((await batch(1)).status, 200);
    const bad = await postFail("status=200");
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).message, /status must be an HTTP error status/);
  });

  it("the page's form sets a failure and goes back to the page, which shows it and the credentials", async () => {
    const set = await fetch(`${sandbox.url}/fail`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "mode=status&status=500&times=3",
      redirect: "manual",
    });
    assert.equal(set.status, 303);
    assert.equal(set.headers.get("location"), "/");
    const page = await (await fetch(`${sandbox.url}/`)).text();
    assert.match(page, /the next 3 calls answer HTTP 500/);
    for (const value of Object.values(CREDENTIALS)) assert.ok(page.includes(value), `the page does not show ${value}`);
    assert.ok(!/<(link|img)\b|src="http/.test(page), "the page must not load external assets");
    const live = await (await fetch(`${sandbox.url}/live`)).json();
    assert.equal(live.abnormal, true);
  });

  it("records what failed on purpose", async () => {
    sandbox.fail({ status: 503 });
    await batch(1);
    const { records } = await (await fetch(`${sandbox.url}/records`)).json();
    assert.equal(records[0].kind, "refused");
    assert.match(records[0].warnings[0], /failed on purpose: HTTP 503, Retry-After 5/);
  });
});

describe("npm start --fail", () => {
  it("reads <status>x<times> and refuse:<command>x<times>", () => {
    assert.deepEqual(parseFailureFlag("500x3"), { ok: true, plan: { mode: "status", status: 500, remaining: 3 } });
    assert.deepEqual(parseFailureFlag("429").plan, { mode: "status", status: 429, remaining: 1, retryAfter: 5 });
    assert.deepEqual(parseFailureFlag("refuse:2x4").plan, { mode: "refuse-command", command: 2, remaining: 4 });
    assert.equal(parseFailureFlag("oops").ok, false);
    assert.equal(parseFailureFlag("200").ok, false);
  });
});
