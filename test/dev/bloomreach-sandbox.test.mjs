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
