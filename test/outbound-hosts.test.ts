/**
 * Where the relay may send a vendor secret (issue 9, point 6): which base URLs are accepted, that a
 * stored secret never follows a base URL to another host, and that the connection test repeats
 * nothing of whatever answers it.
 */
import { env } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDeps } from "../src/composition";
import { checkVendorBaseUrl, type Vendor } from "../src/domain/outbound-url";
import { loadAntavoCredentials } from "../src/services/config";
import { FakeBloomreach } from "./fakes/fake-bloomreach";
import { installOutboundFakes, type OutboundFake } from "./fakes/outbound";
import { admin, json } from "./support/http";
import { loggedIn, textOf } from "./ui-helpers";

const LOCAL = { environment: "local" };
const PRODUCTION = { environment: "production" };

const bloomreach = {
  baseUrl: "https://bloomreach.test",
  projectToken: "proj-hosts",
  apiKeyId: "key-hosts",
  apiSecret: "STORED-SECRET-bloomreach",
};
const antavo = {
  baseUrl: "https://api.demo.antavo.com",
  environment: "demo",
  apiKey: "antavo-key",
  apiSecret: "STORED-SECRET-antavo",
};
const withoutSecret = <T extends { apiSecret: string }>({ apiSecret: _, ...rest }: T) => rest;

let restore: (() => void) | undefined;
beforeEach(async () => {
  // Storage is shared by the tests of one file: each test starts without connections.
  await env.DB.batch([
    env.DB.prepare("delete from bloomreach_connection"),
    env.DB.prepare("delete from antavo_connection"),
  ]);
});
afterEach(() => {
  restore?.();
  restore = undefined;
});

/** Any host at all: records every request it gets and answers with `answer`. */
function recordingHost(origin: string, answer: (path: string) => Response = () => Response.json({})) {
  const received: { method: string; path: string; authorization: string | null; redirect?: string }[] = [];
  const fake: OutboundFake & { received: typeof received } = {
    origin,
    received,
    fetch: async (input, init) => {
      const request = new Request(input, init);
      const path = new URL(request.url).pathname;
      received.push({
        method: request.method,
        path,
        authorization: request.headers.get("authorization"),
        redirect: init?.redirect,
      });
      return answer(path);
    },
  };
  return fake;
}

const expectRefused = async (response: Response, path: string, code = "validation_failed") => {
  expect(response.status).toBe(400);
  const { error } = await json(response);
  expect(error.code).toBe(code);
  expect(error.issues).toEqual([{ path, message: expect.any(String) }]);
  return error;
};

describe("checkVendorBaseUrl (pure)", () => {
  const cases: [Vendor, string, { local: string | false; production: string | false }][] = [
    // [vendor, base URL, the origin accepted in each environment, or false when refused]
    [
      "bloomreach",
      "https://api.exponea.com",
      { local: "https://api.exponea.com", production: "https://api.exponea.com" },
    ],
    [
      "bloomreach",
      "https://API.Exponea.com:443/",
      { local: "https://api.exponea.com", production: "https://api.exponea.com" },
    ],
    ["bloomreach", "https://8.8.8.8", { local: "https://8.8.8.8", production: "https://8.8.8.8" }],
    [
      "bloomreach",
      "https://[2606:4700::1111]",
      { local: "https://[2606:4700::1111]", production: "https://[2606:4700::1111]" },
    ],
    // Plain http: only to a loopback host, only locally (npm start's sandbox is http://127.0.0.1:8788).
    ["bloomreach", "http://api.exponea.com", { local: false, production: false }],
    ["bloomreach", "http://127.0.0.1:8788", { local: "http://127.0.0.1:8788", production: false }],
    ["bloomreach", "http://localhost:8788/", { local: "http://localhost:8788", production: false }],
    ["bloomreach", "http://[::1]:8788", { local: "http://[::1]:8788", production: false }],
    ["bloomreach", "https://127.0.0.1", { local: "https://127.0.0.1", production: false }],
    ["bloomreach", "https://127.1", { local: "https://127.0.0.1", production: false }],
    ["bloomreach", "https://localhost.", { local: "https://localhost.", production: false }],
    // Metadata, private, unspecified and reserved addresses: never, in any spelling.
    ["bloomreach", "https://169.254.169.254", { local: false, production: false }],
    ["bloomreach", "http://169.254.169.254", { local: false, production: false }],
    ["bloomreach", "https://2852039166", { local: false, production: false }],
    ["bloomreach", "https://0xa9.0xfe.0xa9.0xfe", { local: false, production: false }],
    ["bloomreach", "https://[::ffff:169.254.169.254]", { local: false, production: false }],
    ["bloomreach", "https://[fe80::1]", { local: false, production: false }],
    ["bloomreach", "https://10.0.0.1", { local: false, production: false }],
    ["bloomreach", "https://172.16.0.1", { local: false, production: false }],
    ["bloomreach", "https://192.168.1.10", { local: false, production: false }],
    ["bloomreach", "https://100.64.0.1", { local: false, production: false }],
    ["bloomreach", "https://[fd00::1]", { local: false, production: false }],
    ["bloomreach", "https://0.0.0.0", { local: false, production: false }],
    ["bloomreach", "https://[::]", { local: false, production: false }],
    ["bloomreach", "https://[::ffff:10.0.0.1]", { local: false, production: false }],
    ["bloomreach", "https://metadata", { local: false, production: false }],
    // An origin only, without credentials.
    ["bloomreach", "https://user:pass@api.exponea.com", { local: false, production: false }],
    ["bloomreach", "https://user@api.exponea.com", { local: false, production: false }],
    ["bloomreach", "https://api.exponea.com/?next=x", { local: false, production: false }],
    ["bloomreach", "https://api.exponea.com/#x", { local: false, production: false }],
    ["bloomreach", "https://api.exponea.com/track/v2", { local: false, production: false }],
    ["bloomreach", "ftp://api.exponea.com", { local: false, production: false }],
    ["bloomreach", "not a url", { local: false, production: false }],
    // Antavo: *.antavo.com only (and loopback locally).
    [
      "antavo",
      "https://api.demo.antavo.com",
      { local: "https://api.demo.antavo.com", production: "https://api.demo.antavo.com" },
    ],
    [
      "antavo",
      "https://API.demo.Antavo.com/",
      { local: "https://api.demo.antavo.com", production: "https://api.demo.antavo.com" },
    ],
    ["antavo", "https://api.demo.antavo.test", { local: false, production: false }],
    ["antavo", "https://antavo.com", { local: false, production: false }],
    ["antavo", "https://evilantavo.com", { local: false, production: false }],
    ["antavo", "https://api.demo.antavo.com.evil.example", { local: false, production: false }],
    ["antavo", "https://api.demo.antavo.com@evil.example", { local: false, production: false }],
    ["antavo", "http://api.demo.antavo.com", { local: false, production: false }],
    ["antavo", "http://127.0.0.1:9000", { local: "http://127.0.0.1:9000", production: false }],
    ["antavo", "https://169.254.169.254", { local: false, production: false }],
  ];

  it.each(cases)("%s %s", (vendor, url, expected) => {
    for (const [policy, wanted] of [
      [LOCAL, expected.local],
      [PRODUCTION, expected.production],
    ] as const) {
      const result = checkVendorBaseUrl(vendor, url, policy);
      if (wanted === false) {
        expect(result, `${policy.environment} must refuse ${url}`).toMatchObject({ ok: false });
        if (!result.ok) expect(result.message).toMatch(/^must /);
      } else {
        expect(result, `${policy.environment} must accept ${url}`).toEqual({ ok: true, origin: wanted });
      }
    }
  });

  it("says why in words an admin can act on", () => {
    const message = (url: string, policy = PRODUCTION, vendor: Vendor = "bloomreach") => {
      const result = checkVendorBaseUrl(vendor, url, policy);
      return result.ok ? "accepted" : result.message;
    };
    expect(message("http://api.exponea.com")).toMatch(/https/);
    expect(message("http://127.0.0.1:8788")).toMatch(/local environment/);
    expect(message("https://169.254.169.254")).toMatch(/link-local.*metadata/);
    expect(message("https://10.0.0.1", LOCAL)).toMatch(/private network/);
    expect(message("https://u:p@api.exponea.com")).toMatch(/user name or password/);
    expect(message("https://api.exponea.com/x")).toMatch(/without a path/);
    expect(message("https://api.demo.antavo.test", PRODUCTION, "antavo")).toMatch(/antavo\.com/);
  });
});

describe("PUT /api/connection and /api/antavo refuse hosts a secret must not go to", () => {
  it.each([
    "http://api.exponea.com",
    "https://169.254.169.254",
    "http://169.254.169.254",
    "https://10.0.0.1",
    "https://[::ffff:169.254.169.254]",
    "https://key:secret@api.exponea.com",
    "https://api.exponea.com/?x=1",
    "https://api.exponea.com/some/path",
  ])("Bloomreach %s: 400 on baseUrl, nothing stored", async (baseUrl) => {
    await expectRefused(await admin("/connection", { body: { ...bloomreach, baseUrl } }), "baseUrl");
    expect((await json(await admin("/connection"))).configured).toBe(false);
  });

  it("accepts the local sandbox of npm start (http on 127.0.0.1, ENVIRONMENT local)", async () => {
    const response = await admin("/connection", { body: { ...bloomreach, baseUrl: "http://127.0.0.1:8788" } });
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ baseUrl: "http://127.0.0.1:8788", apiSecretSet: true });
  });

  it("stores the normalised origin", async () => {
    const response = await admin("/connection", { body: { ...bloomreach, baseUrl: "https://Bloomreach.TEST:443/" } });
    expect(await json(response)).toMatchObject({ baseUrl: "https://bloomreach.test" });
  });

  it.each([
    "https://api.demo.antavo.test",
    "https://evil.example.com",
    "https://api.demo.antavo.com.evil.example",
    "http://api.demo.antavo.com",
    "https://169.254.169.254",
    "https://user:pw@api.demo.antavo.com",
  ])("Antavo %s: 400 on baseUrl, nothing stored", async (baseUrl) => {
    const error = await expectRefused(await admin("/antavo", { body: { ...antavo, baseUrl } }), "baseUrl");
    expect(error.message).toMatch(/base URL/);
    expect((await json(await admin("/antavo"))).configured).toBe(false);
  });
});

describe("a stored secret stays with its host", () => {
  it("Bloomreach: another host without the secret is 400 secret_required, and the secret is sent nowhere", async () => {
    expect((await admin("/connection", { body: bloomreach })).status).toBe(200);
    const attacker = recordingHost("https://attacker.example");
    const real = new FakeBloomreach(bloomreach);
    restore = installOutboundFakes(real, attacker);

    for (const baseUrl of ["https://attacker.example", "https://bloomreach.test:8443", "https://api.bloomreach.test"]) {
      const moved = await admin("/connection", { body: { ...withoutSecret(bloomreach), baseUrl } });
      const error = await expectRefused(moved, "apiSecret", "secret_required");
      expect(error.message).toMatch(/another host/);
    }
    expect(await json(await admin("/connection"))).toMatchObject({ baseUrl: bloomreach.baseUrl, apiSecretSet: true });

    // The test still goes to the saved host only; the attacker's host heard nothing.
    const test = await json(await admin("/connection/test", { method: "POST" }));
    expect(test.ok).toBe(true);
    expect(attacker.received).toEqual([]);
    real.assertNoUnexpected();
  });

  it("Bloomreach: the same host (however spelled) without the secret keeps it", async () => {
    expect((await admin("/connection", { body: bloomreach })).status).toBe(200);
    const same = await admin("/connection", {
      body: { ...withoutSecret(bloomreach), baseUrl: "https://BLOOMREACH.test:443/", projectToken: "proj-hosts-2" },
    });
    expect(same.status).toBe(200);
    expect(await json(same)).toMatchObject({
      baseUrl: bloomreach.baseUrl,
      projectToken: "proj-hosts-2",
      apiSecretSet: true,
    });
    // The fake checks the Basic credentials: a kept secret passes.
    const real = new FakeBloomreach({ ...bloomreach, projectToken: "proj-hosts-2" });
    restore = installOutboundFakes(real);
    expect((await json(await admin("/connection/test", { method: "POST" }))).ok).toBe(true);
  });

  it("Bloomreach: another host with a new secret is saved", async () => {
    expect((await admin("/connection", { body: bloomreach })).status).toBe(200);
    const moved = await admin("/connection", {
      body: { ...bloomreach, baseUrl: "https://api-engagement.bloomreach.com", apiSecret: "NEW-SECRET" },
    });
    expect(moved.status).toBe(200);
    expect(await json(moved)).toMatchObject({ baseUrl: "https://api-engagement.bloomreach.com" });
  });

  it("Antavo: another host without the secret is 400 secret_required; the same host keeps it", async () => {
    expect((await admin("/antavo", { body: antavo })).status).toBe(200);
    const sealed = (
      await env.DB.prepare("select api_secret_enc from antavo_connection").first<{ api_secret_enc: string }>()
    )?.api_secret_enc;

    const moved = await admin("/antavo", {
      body: { ...withoutSecret(antavo), baseUrl: "https://api.other.antavo.com" },
    });
    await expectRefused(moved, "apiSecret", "secret_required");
    expect(await json(await admin("/antavo"))).toMatchObject({ baseUrl: antavo.baseUrl, apiKey: antavo.apiKey });

    const same = await admin("/antavo", {
      body: { ...withoutSecret(antavo), baseUrl: "https://api.demo.antavo.com/", apiKey: "antavo-key-2" },
    });
    expect(await json(same)).toMatchObject({ baseUrl: antavo.baseUrl, apiKey: "antavo-key-2", apiSecretSet: true });
    expect(
      (await env.DB.prepare("select api_secret_enc from antavo_connection").first<{ api_secret_enc: string }>())
        ?.api_secret_enc,
    ).toBe(sealed);

    // The kept secret is still the one saved for this host.
    expect(await loadAntavoCredentials(createDeps(env))).toMatchObject({
      baseUrl: antavo.baseUrl,
      apiSecret: antavo.apiSecret,
    });
  });

  it("the admin UI forms refuse the same, with the message beside the secret field", async () => {
    expect((await admin("/connection", { body: bloomreach })).status).toBe(200);
    expect((await admin("/antavo", { body: antavo })).status).toBe(200);
    const ui = await loggedIn();

    const connection = await ui.post("/admin/connection", {
      ...withoutSecret(bloomreach),
      baseUrl: "https://attacker.example",
      apiSecret: "",
    });
    expect(connection.status).toBe(400);
    expect(connection.html).toMatch(/id="f-apiSecret-error">is required again when the base URL&#39;s host changes</);
    expect(textOf(connection.html)).toMatch(/another host/);
    expect((await json(await admin("/connection"))).baseUrl).toBe(bloomreach.baseUrl);

    const antavoPage = await ui.post("/admin/antavo", {
      ...withoutSecret(antavo),
      baseUrl: "https://api.other.antavo.com",
      apiSecret: "",
    });
    expect(antavoPage.status).toBe(400);
    expect(antavoPage.html).toContain('id="f-apiSecret-error"');
    expect((await json(await admin("/antavo"))).baseUrl).toBe(antavo.baseUrl);

    const foreign = await ui.post("/admin/antavo", { ...antavo, baseUrl: "https://evil.example.com" });
    expect(foreign.status).toBe(400);
    expect(foreign.html).toMatch(/id="f-baseUrl-error">must be an Antavo API host/);
    expect(foreign.html).not.toContain(antavo.apiSecret);
  });
});

describe("the connection test repeats nothing of what answers it", () => {
  const HOSTILE = "https://hostile.example";
  const REFLECTED = "REFLECTED-DATA";
  // Answers are made per request: a Response cannot cross from one request's context to another.
  type Answer = () => Response;
  const reply =
    (status: number, body: unknown, headers: Record<string, string> = {}): Answer =>
    () =>
      new Response(typeof body === "string" ? body : JSON.stringify(body), {
        status,
        headers: { "content-type": "application/json", ...headers },
      });
  const ok = reply(200, { success: true, time: `${REFLECTED}-time` });

  const scenarios: [string, Answer, Answer | undefined, Record<string, boolean>][] = [
    [
      "everything passes, with reflected fields",
      ok,
      reply(200, { results: [{ success: false, error: `${REFLECTED}-probe` }], extra: REFLECTED }),
      { reachability: true, credentials: true, permissions: true },
    ],
    [
      "time says success:false",
      reply(200, { success: false, error: REFLECTED, message: REFLECTED }),
      undefined,
      { reachability: false },
    ],
    ["time answers 500", reply(500, { error: REFLECTED }), undefined, { reachability: false }],
    ["time answers 400", reply(400, { errors: { token: REFLECTED } }), undefined, { reachability: false }],
    ["probe answers 401", ok, reply(401, { error: REFLECTED }), { reachability: true, credentials: false }],
    ["probe answers 403", ok, reply(403, { errors: [REFLECTED] }), { reachability: true, credentials: false }],
    ["probe answers 400", ok, reply(400, { message: REFLECTED }), { reachability: true, credentials: false }],
    [
      "probe names a permission",
      ok,
      reply(200, { results: [{ success: false, error: `No permission ${REFLECTED}` }] }),
      { reachability: true, credentials: true, permissions: false },
    ],
    [
      "time redirects to the metadata address",
      reply(307, "", { location: "http://169.254.169.254/latest/meta-data/" }),
      undefined,
      { reachability: false },
    ],
  ];

  it.each(scenarios)("%s", async (_, time, probe, expected) => {
    expect((await admin("/connection", { body: { ...bloomreach, baseUrl: HOSTILE } })).status).toBe(200);
    const host = recordingHost(HOSTILE, (path) => (path.endsWith("/system/time") ? time : (probe ?? ok))());
    restore = installOutboundFakes(host);

    const text = await (await admin("/connection/test", { method: "POST" })).text();
    expect(text).not.toContain(REFLECTED);
    expect(text).not.toContain(bloomreach.apiSecret);
    const result = JSON.parse(text);
    for (const [name, passed] of Object.entries(expected)) {
      expect(
        result.checks.find((c: { name: string }) => c.name === name),
        name,
      ).toMatchObject({ ok: passed });
    }
    // Redirects are not followed: the checked host cannot bounce the call elsewhere.
    expect(host.received.length).toBeGreaterThan(0);
    expect(host.received.every((r) => r.redirect === "manual")).toBe(true);
  });

  it("nor does the admin UI page", async () => {
    expect((await admin("/connection", { body: { ...bloomreach, baseUrl: HOSTILE } })).status).toBe(200);
    restore = installOutboundFakes(
      recordingHost(HOSTILE, (path) =>
        path.endsWith("/system/time")
          ? ok()
          : reply(200, { results: [{ success: false, error: `No permission ${REFLECTED}` }] })(),
      ),
    );
    const ui = await loggedIn();
    await ui.get("/admin/connection");
    const page = await ui.post("/admin/connection/test");
    expect(page.status).toBe(200);
    expect(textOf(page.html)).toContain("fail permissions");
    expect(page.html).not.toContain(REFLECTED);
  });

  it("does not call a saved base URL that would be refused today", async () => {
    expect((await admin("/connection", { body: bloomreach })).status).toBe(200);
    // A row saved before hosts were checked.
    await env.DB.prepare("update bloomreach_connection set base_url = 'http://169.254.169.254'").run();
    restore = installOutboundFakes(); // any outbound request fails the test
    const result = await json(await admin("/connection/test", { method: "POST" }));
    expect(result.ok).toBe(false);
    expect(result.checks[0]).toMatchObject({
      name: "reachability",
      ok: false,
      message: expect.stringMatching(/not called/),
    });
  });
});
