/**
 * Property-based fuzzing of the input boundaries (invariant 8): whatever arrives at the webhook or
 * the customer import, the answer is a 2xx or a 4xx, never a 5xx, and a valid webhook sent right
 * after still answers 2xx (nothing crafted changes behaviour for later requests). Deterministic
 * (fixed seed) and bounded (NUM_RUNS per property).
 */
import { SELF } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { optInEvent } from "./support/fixtures";
import { admin, basicAuth, postWebhook, secrets } from "./support/http";

const NUM_RUNS = 100;
const SEED = 20_260_901;

const WEIRD = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf", "length", "0", ""];
const FIELDS = [
  "id",
  "action",
  "customer",
  "customer_id",
  "data",
  "events",
  "created_at",
  "timestamp",
  "email",
  "tiers",
];

/** Code units, lone surrogates and the characters parsers care about included. */
const unit = fc.oneof(
  fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 1 }),
  fc.constantFrom(
    "\ud800",
    "\udfff",
    "\ud83d\ude00",
    "é",
    "ő",
    "✓",
    "[",
    "]",
    ".",
    "%",
    "&",
    "=",
    '"',
    ",",
    "\n",
    "\u0000",
  ),
  fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
);
const text = fc.string({ unit, maxLength: 12 });
/** encodeURIComponent refuses lone surrogates; the raw text is then sent as it is. */
const encode = (raw: string) => {
  try {
    return encodeURIComponent(raw);
  } catch {
    return raw;
  }
};
const key = fc.oneof(fc.constantFrom(...WEIRD, ...FIELDS), text);

/**
 * Arrays or objects nested around a value, near the limit of 32. Deeper ones are made as text
 * (deepText), so that fast-check can print and shrink a counterexample without recursing.
 */
const deep = fc
  .tuple(fc.integer({ min: 1, max: 40 }), fc.boolean(), fc.jsonValue({ maxDepth: 1 }))
  .map(([depth, arrays, leaf]) => {
    let value: unknown = leaf;
    for (let i = 0; i < depth; i++) value = arrays ? [value] : { a: value };
    return value;
  });

const value: fc.Arbitrary<unknown> = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    text,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    deep,
    fc.array(tie("node"), { maxLength: 4 }),
    fc.dictionary(key, tie("node"), { maxKeys: 4 }),
  ),
})).node;

const customer = fc.oneof(text, fc.dictionary(key, value, { maxKeys: 5 }), fc.record({ id: text, email: value }));
const eventLike = fc.record(
  {
    id: fc.oneof(text, fc.integer()),
    action: fc.oneof(fc.constant("opt_in"), text),
    customer,
    data: fc.oneof(fc.dictionary(key, value, { maxKeys: 6 }), value),
    created_at: fc.oneof(fc.integer(), text, fc.constant("2026-01-01T00:00:00Z")),
  },
  { requiredKeys: [] },
);
const jsonBody = fc.oneof(
  eventLike,
  fc.record({ events: fc.oneof(fc.array(eventLike, { maxLength: 5 }), value) }),
  fc.dictionary(key, value, { maxKeys: 6 }),
  value,
);

/** A thousands-deep array or object as JSON text, where a value would go. */
const deepText = fc
  .tuple(fc.integer({ min: 33, max: 60_000 }), fc.boolean())
  .map(([depth, arrays]) =>
    arrays ? `${"[".repeat(depth)}1${"]".repeat(depth)}` : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`,
  );
const deepEvent = fc
  .tuple(deepText, fc.constantFrom('"id": "fuzz-deep", ', ""), fc.constantFrom("data", "customer", "id", "created_at"))
  .map(([deepValue, id, field]) => `{${id}"action": "opt_in", "customer": "c-deep", "${field}": {"a": ${deepValue}}}`);

/** JSON text: serialised (lone surrogates as \\udXXX escapes), cut short, or with a raw byte or two spliced in. */
const jsonText = fc.oneof(
  deepEvent,
  jsonBody.map((body) => JSON.stringify(body) ?? "null"),
  fc.tuple(jsonBody, fc.nat(), text).map(([body, at, junk]) => {
    const serialised = JSON.stringify(body) ?? "";
    const cut = at % (serialised.length + 1);
    return serialised.slice(0, cut) + junk + serialised.slice(cut);
  }),
);

const bracket = fc.oneof(
  fc.constantFrom("[]", "[0]", "[1]", "[1000]", "[1001]", "[100000000]", "[999999999]", "[a]", "[items]", "[total]"),
  fc.constantFrom("[__proto__]", "[constructor]", "[prototype]", "[toString]", "%5B0%5D", "[", "]", "[[a]]", "."),
  fc.integer({ min: 1, max: 60 }).map((n) => "[x]".repeat(n)),
  text.map((raw) => `[${encode(raw)}]`),
);
const formKey = fc
  .oneof(
    { arbitrary: fc.tuple(fc.constantFrom(...FIELDS, ...WEIRD), fc.array(bracket, { maxLength: 4 })), weight: 4 },
    fc.tuple(
      fc.oneof(text.map(encode), fc.constantFrom("%ED%A0%80", "%C3%A1", "%", "+", "__proto__")),
      fc.array(bracket, { maxLength: 3 }),
    ),
  )
  .map(([root, brackets]) => root + brackets.join(""));
const formText = fc
  .array(fc.tuple(formKey, fc.oneof(text.map(encode), text)), { maxLength: 12 })
  .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join("&"));

const contentType = fc.constantFrom(
  "application/json",
  "application/json; charset=utf-8",
  "application/vnd.antavo+json",
  "application/x-www-form-urlencoded",
  "text/plain",
  "multipart/form-data",
  "",
);

let followUps = 0;

/** The answer to crafted input is never a 5xx, and the relay still accepts a valid webhook after it. */
async function expectNo5xxThenWorks(response: Response, label: string) {
  const body = await response.text();
  expect(response.status, `${label}: ${body.slice(0, 300)}`).toBeLessThan(500);
  const after = await postWebhook(optInEvent({ id: `fuzz-follow-up-${++followUps}` }));
  expect(after.status, `after ${label}: ${(await after.text()).slice(0, 300)}`).toBeGreaterThanOrEqual(200);
  expect(after.status).toBeLessThan(300);
}

function webhook(body: BodyInit, type: string) {
  const headers: Record<string, string> = { authorization: basicAuth() };
  if (type !== "") headers["content-type"] = type;
  return SELF.fetch("https://relay.test/webhooks/antavo", { method: "POST", headers, body });
}

function upload(body: string, type: string) {
  return SELF.fetch("https://relay.test/api/customers/import", {
    method: "POST",
    headers: { authorization: `Bearer ${secrets.adminToken}`, "content-type": type },
    body,
  });
}

const settings = { numRuns: NUM_RUNS, seed: SEED, endOnFailure: true };

/** A Bloomreach webhook event (issue 11) with any of its fields crafted, alone or in a batch. */
const bloomreachEvent = fc.record(
  {
    id: fc.oneof(text, value),
    event_type: fc.oneof(fc.constantFrom("newsletter_signup", "unknown_type"), text, value),
    customer_ids: fc.oneof(fc.record({ registered: fc.oneof(text, value) }), fc.dictionary(key, value, { maxKeys: 3 })),
    properties: fc.oneof(fc.dictionary(key, value, { maxKeys: 5 }), value),
    timestamp: value,
  },
  { requiredKeys: [] },
);
const bloomreachBody = fc
  .oneof(bloomreachEvent, fc.record({ events: fc.array(bloomreachEvent, { maxLength: 4 }) }), value)
  .map((body) => {
    try {
      return JSON.stringify(body) ?? "null";
    } catch {
      return "null";
    }
  });

describe("fuzz: no input makes the relay answer 5xx or break later requests", () => {
  it("webhook JSON bodies (weird keys, deep values, lone surrogates, broken text)", async () => {
    await fc.assert(
      fc.asyncProperty(jsonText, async (raw) => {
        await expectNo5xxThenWorks(await webhook(raw, "application/json"), raw.slice(0, 200));
      }),
      settings,
    );
  });

  it("webhook form bodies with brackets, and any body under any content type", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          formText.map((raw) => ({ raw, type: "application/x-www-form-urlencoded" })),
          fc.record({ raw: fc.oneof(jsonText, formText), type: contentType }),
          fc.record({ raw: fc.uint8Array({ maxLength: 64 }), type: contentType }),
        ),
        async ({ raw, type }) => {
          await expectNo5xxThenWorks(await webhook(raw, type), `${type} ${String(raw).slice(0, 200)}`);
        },
      ),
      settings,
    );
  });

  it("Bloomreach webhook bodies (crafted fields, batches, anything)", async () => {
    await admin("/mapping", { body: { hardId: { loyaltyField: "email", remoteId: "registered" }, fields: [] } });
    await admin("/inbound", {
      body: { rules: [{ eventType: "newsletter_signup", antavoAction: "point_add", data: { p: "{{properties.x}}" } }] },
    });
    await fc.assert(
      fc.asyncProperty(fc.oneof(bloomreachBody, jsonText), async (raw) => {
        const response = await SELF.fetch("https://relay.test/webhooks/bloomreach", {
          method: "POST",
          headers: { authorization: "Bearer test-bloomreach-token", "content-type": "application/json" },
          body: raw,
        });
        await expectNo5xxThenWorks(response, raw.slice(0, 200));
      }),
      settings,
    );
  });

  it("customer import: CSV with any header and cells", async () => {
    const column = fc.oneof(
      fc.constantFrom("id", "email", "birth_date", "score", "tiers.0.name", "properties.store", "a.b"),
      {
        arbitrary: fc.constantFrom(
          "__proto__.pwned",
          "constructor.prototype.x",
          "tiers.1001.name",
          "x.prototype",
          "a..b",
        ),
        weight: 3,
      },
      fc.integer({ min: 1, max: 40 }).map((n) => Array.from({ length: n }, () => "a").join(".")),
      text,
    );
    const cell = fc.oneof(
      text,
      fc.constantFrom('"quoted, with comma"', '"line\nbreak"', '"unclosed', "120", "1990-02-14"),
    );
    const idCell = fc.oneof(fc.constantFrom("c-fuzz-1", "c-fuzz-2", ""), text);
    const csv = fc
      .tuple(
        fc.array(column, { minLength: 1, maxLength: 5 }),
        fc.array(fc.tuple(idCell, fc.array(cell, { maxLength: 6 })), { maxLength: 5 }),
        fc.boolean(),
      )
      .map(([columns, rows, withId]) =>
        [
          (withId ? ["id", ...columns] : columns).join(","),
          ...rows.map(([id, cells]) => (withId ? [id, ...cells] : cells).join(",")),
        ].join("\n"),
      );
    await fc.assert(
      fc.asyncProperty(csv, async (raw) => {
        await expectNo5xxThenWorks(await upload(raw, "text/csv"), raw.slice(0, 200));
      }),
      settings,
    );
  });

  it("customer import: NDJSON lines of anything", async () => {
    const line = fc.oneof(
      jsonText,
      fc
        .record({ id: text, email: value, properties: value, tiers: value, score: value })
        .map((row) => JSON.stringify(row)),
      fc.dictionary(key, value, { maxKeys: 5 }).map((row) => JSON.stringify({ id: "fuzz-row", ...row })),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 6 }), async (lines) => {
        const raw = lines.join("\n");
        await expectNo5xxThenWorks(await upload(raw, "application/x-ndjson"), raw.slice(0, 200));
      }),
      settings,
    );
  });
});
