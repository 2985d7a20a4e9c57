/**
 * The Antavo sandbox's reward claims, in plain Node (`npm run test:dev`): the free (bulk) claim and
 * the paid claim are recorded and answered with a coupon, as the birthday-reward workflow reads it
 * (`{{claim.coupon.code}}`), and an unsigned claim is refused like every other unsigned request.
 * The requests are signed here with node:crypto from the description in docs/vendor-apis.md.
 */
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { startAntavoSandbox } from "../../src/dev/antavo-sandbox.mjs";

const CREDENTIALS = { environment: "env-test", apiKey: "key-test", apiSecret: "secret-test" };

let sandbox;
before(async () => {
  sandbox = await startAntavoSandbox({ port: 0, ...CREDENTIALS });
});
after(() => sandbox.close());

const sha256 = (text) => createHash("sha256").update(text, "utf8").digest("hex");

/** Escher as Antavo takes it: `date` and `host` signed, no query. */
function sign(method, url, body) {
  const { host, pathname } = new URL(url);
  const date = new Date()
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
  const shortDate = date.slice(0, 8);
  const canonical = [method, pathname, "", `date:${date}\nhost:${host}\n`, "date;host", sha256(body)].join("\n");
  const scope = `${shortDate}/${CREDENTIALS.environment}/api/antavo_request`;
  const toSign = ["ANTAVO-HMAC-SHA256", date, scope, sha256(canonical)].join("\n");
  let key = Buffer.from(`ANTAVO${CREDENTIALS.apiSecret}`, "utf8");
  for (const part of [shortDate, CREDENTIALS.environment, "api", "antavo_request"])
    key = createHmac("sha256", key).update(part).digest();
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  return {
    date,
    authorization: `ANTAVO-HMAC-SHA256 Credential=${CREDENTIALS.apiKey}/${scope}, SignedHeaders=date;host, Signature=${signature}`,
  };
}

async function post(path, body, type, signed = true) {
  const url = `${sandbox.url}${path}`;
  const headers = { "content-type": type, ...(signed ? sign("POST", url, body) : {}) };
  const response = await fetch(url, { method: "POST", headers, body });
  return { status: response.status, body: await response.json() };
}

describe("Antavo sandbox: reward claims", () => {
  it("a free (bulk) claim is recorded and answered with a coupon", async () => {
    const answer = await post(
      "/v1/bulk-operation/reward/claim/rw-bday",
      JSON.stringify({ customers: ["c-1"], force_claim: true }),
      "application/json",
    );
    assert.equal(answer.status, 200);
    assert.match(answer.body.coupon.code, /^SANDBOX-RW-BDAY-\d+$/);
    assert.equal(typeof answer.body.coupon.expires_at, "number");
    const claim = sandbox.records.findLast((r) => r.kind === "claim");
    assert.deepEqual(
      { rewardId: claim.claim.rewardId, customers: claim.claim.customers, free: claim.claim.free },
      { rewardId: "rw-bday", customers: ["c-1"], free: true },
    );
    assert.equal(claim.claim.coupon.code, answer.body.coupon.code);
  });

  it("a paid claim (form body) names the customer from its path", async () => {
    const answer = await post(
      "/customers/c-2/activities/rewards/rw-paid/claim",
      "points=100",
      "application/x-www-form-urlencoded",
    );
    assert.equal(answer.status, 200);
    assert.ok(answer.body.coupon.code);
    const claim = sandbox.records.findLast((r) => r.kind === "claim");
    assert.deepEqual([claim.claim.rewardId, claim.claim.customers, claim.claim.free], ["rw-paid", ["c-2"], false]);
  });

  it("a bulk claim without customers is a 400, an unsigned claim a 401", async () => {
    const empty = await post("/v1/bulk-operation/reward/claim/rw-bday", JSON.stringify({}), "application/json");
    assert.equal(empty.status, 400);
    const claims = sandbox.records.filter((r) => r.kind === "claim").length;
    const unsigned = await post(
      "/v1/bulk-operation/reward/claim/rw-bday",
      JSON.stringify({ customers: ["c-1"], force_claim: true }),
      "application/json",
      false,
    );
    assert.equal(unsigned.status, 401);
    assert.equal(sandbox.records.filter((r) => r.kind === "claim").length, claims, "an unsigned claim was recorded");
  });
});
