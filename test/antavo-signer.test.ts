import { describe, expect, it } from "vitest";
import { canonicalPath, canonicalQuery, formatLongDate, signAntavoRequest } from "../src/antavo/signer";

/*
 * Fixed vectors, worked out once with Python's hashlib/hmac straight from the reference description,
 * not from src/antavo/signer.ts:
 *
 *   import hashlib, hmac
 *   H = lambda b: hashlib.sha256(b).hexdigest()
 *   K = lambda key, msg: hmac.new(key, msg.encode(), hashlib.sha256).digest()
 *   long_date, short = "20240506T070809Z", "20240506"
 *   # 1. canonical request: method, path, canonical query (sorted), "name:value\n" per signed
 *   #    header (hence the blank line), signed-header list, hex SHA-256 of the body
 *   creq = "\n".join([method, path, query, f"date:{long_date}\nhost:{host}\n", "date;host", H(body)])
 *   # 2. string to sign: algorithm, long date, credential scope, hex SHA-256 of the canonical request
 *   scope = f"{short}/{env}/api/antavo_request"
 *   sts = "\n".join(["ANTAVO-HMAC-SHA256", long_date, scope, H(creq.encode())])
 *   # 3. signing key: HMAC chain from "ANTAVO" + secret over short date, env, "api", "antavo_request"
 *   k = ("ANTAVO" + secret).encode()
 *   for part in [short, env, "api", "antavo_request"]: k = K(k, part)
 *   # 4. signature: hex HMAC(k, string to sign)
 *   sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
 *
 * with apiKey "AKIDEXAMPLE", secret "s3cr3t-example", env "demo", host "api.demo.antavo.com".
 */
const common = {
  apiKey: "AKIDEXAMPLE",
  apiSecret: "s3cr3t-example",
  environment: "demo",
  now: new Date("2024-05-06T07:08:09.456Z"),
};

describe("signAntavoRequest: fixed vectors", () => {
  it("GET with an unsorted query (canonical query a=1&b=2, empty body)", async () => {
    // Python: hash(creq) = 7ace83293b558a79e7c85067a2a0e373a9963e3d7a3b078b8a9527db6f37181e
    const headers = await signAntavoRequest({
      ...common,
      method: "GET",
      url: "https://api.demo.antavo.com/customers/cust-1?b=2&a=1",
    });
    expect(headers).toEqual({
      date: "20240506T070809Z",
      host: "api.demo.antavo.com",
      authorization:
        "ANTAVO-HMAC-SHA256 Credential=AKIDEXAMPLE/20240506/demo/api/antavo_request, SignedHeaders=date;host, " +
        "Signature=2c523624aed05f4ad35a481fb162b2498ac0d70b0a8ced9ed77426188ad6329d",
    });
  });

  it("POST with a JSON body", async () => {
    // Python: hash(body) = 0428af1322309cd014a1b90d363c832523887a836f7b0a92046267f54cdc9242
    const headers = await signAntavoRequest({
      ...common,
      method: "post",
      url: "https://api.demo.antavo.com/v1/bulk-operation/reward/claim/rw-1",
      body: '{"customers":["cust-1"],"force_claim":true}',
    });
    expect(headers.authorization).toBe(
      "ANTAVO-HMAC-SHA256 Credential=AKIDEXAMPLE/20240506/demo/api/antavo_request, SignedHeaders=date;host, " +
        "Signature=90cc47adf3a2cd65532d65a85d398d2a6886aca95eb78645a214c9d57b0235b0",
    );
  });
});

describe("signAntavoRequest: what the signature covers", () => {
  const base = {
    ...common,
    method: "POST",
    url: "https://api.demo.antavo.com/customers/c1/activities/rewards/r1/claim",
  };
  const sig = async (over: Partial<typeof base> & { body?: string | Uint8Array }) =>
    (await signAntavoRequest({ ...base, ...over })).authorization.split("Signature=")[1];

  it("hashes the body: a different body, a different signature; bytes and text agree", async () => {
    const a = await sig({ body: "points=10" });
    expect(await sig({ body: "points=11" })).not.toBe(a);
    expect(await sig({ body: new TextEncoder().encode("points=10") })).toBe(a);
    // No body hashes the same as an empty one.
    expect(await sig({})).toBe(await sig({ body: "" }));
    expect(await sig({})).not.toBe(a);
  });

  it("does not depend on query order, but does on query content", async () => {
    const url = "https://api.demo.antavo.com/customers";
    expect(await sig({ url: `${url}?b=2&a=1` })).toBe(await sig({ url: `${url}?a=1&b=2` }));
    expect(await sig({ url: `${url}?a=1&b=3` })).not.toBe(await sig({ url: `${url}?a=1&b=2` }));
  });

  it("covers method, path, host, environment and time", async () => {
    const a = await sig({});
    expect(await sig({ method: "GET" })).not.toBe(a);
    expect(await sig({ url: base.url.replace("r1", "r2") })).not.toBe(a);
    expect(await sig({ url: base.url.replace("api.demo", "api.other") })).not.toBe(a);
    expect(await sig({ environment: "other" })).not.toBe(a);
    expect(await sig({ now: new Date("2024-05-06T07:08:10Z") })).not.toBe(a);
    expect(await sig({ apiSecret: "other" })).not.toBe(a);
  });

  it("puts the port in the host header when it is not the default", async () => {
    const headers = await signAntavoRequest({ ...base, url: "http://localhost:8787/customers/c1" });
    expect(headers.host).toBe("localhost:8787");
  });
});

describe("signAntavoRequest: refuses what it would sign wrongly", () => {
  const base = { ...common, method: "GET", url: "https://api.demo.antavo.com/customers/c1" };

  it("an unknown HTTP method", async () => {
    await expect(signAntavoRequest({ ...base, method: "FETCH" })).rejects.toThrow(
      'Escher: the request method "FETCH" is invalid',
    );
    await expect(signAntavoRequest({ ...base, method: "" })).rejects.toThrow(/request method "" is invalid/);
  });

  it("an empty secret, key or environment, or an environment that is not one path segment", async () => {
    await expect(signAntavoRequest({ ...base, apiSecret: "" })).rejects.toThrow(
      "Antavo signer: the API secret is empty",
    );
    await expect(signAntavoRequest({ ...base, apiKey: "" })).rejects.toThrow("Antavo signer: the API key is empty");
    await expect(signAntavoRequest({ ...base, environment: "" })).rejects.toThrow(/environment "" is empty/);
    await expect(signAntavoRequest({ ...base, environment: "a/b" })).rejects.toThrow(/not one path segment/);
  });

  it("a raw # in the URL, which fetch would drop as a fragment after it was signed as query data", async () => {
    await expect(signAntavoRequest({ ...base, url: "https://api.demo.antavo.com/customers?q=a#b" })).rejects.toThrow(
      /raw "#"; encode it as %23/,
    );
    // Encoded, it is signed as the data it is.
    const encoded = await signAntavoRequest({ ...base, url: "https://api.demo.antavo.com/customers?q=a%23b" });
    const other = await signAntavoRequest({ ...base, url: "https://api.demo.antavo.com/customers?q=a" });
    expect(encoded.authorization).not.toBe(other.authorization);
  });
});

describe("signAntavoRequest: canonicalisation as the reference implementations do it", () => {
  const sign = async (url: string) => (await signAntavoRequest({ ...common, method: "GET", url })).authorization;

  it("collapses repeated slashes in the path, as Antavo's server will when it checks", async () => {
    expect(await sign("https://api.demo.antavo.com//customers//c1")).toBe(
      await sign("https://api.demo.antavo.com/customers/c1"),
    );
  });
});

describe("canonicalPath", () => {
  it("resolves dot segments and collapses repeated slashes, keeping escapes and a trailing slash", () => {
    expect(canonicalPath("//foo//")).toBe("/foo/");
    expect(canonicalPath("//")).toBe("/");
    expect(canonicalPath("")).toBe("/");
    expect(canonicalPath("/a/./b/../c")).toBe("/a/c");
    expect(canonicalPath("/foo/bar/../..")).toBe("/");
    expect(canonicalPath("/a%2Fb//%20/")).toBe("/a%2Fb/%20/");
  });
});

describe("canonicalQuery", () => {
  it("sorts the encoded key=value pairs and encodes as Escher does", () => {
    expect(canonicalQuery("?b=2&a=1&a=0&e=x+y&c=%7e&d&f=a%2Fb&g=it's")).toBe(
      "a=0&a=1&b=2&c=~&d=&e=x%20y&f=a%2Fb&g=it%27s",
    );
    expect(canonicalQuery("")).toBe("");
    expect(canonicalQuery("?")).toBe("");
  });

  it("leaves ! and * unescaped but escapes '() (the published suite's printable-characters case)", () => {
    expect(canonicalQuery("q=!*'()")).toBe("q=!*%27%28%29");
    expect(canonicalQuery("q=%21%2a%27")).toBe("q=!*%27");
  });

  it("sorts the joined pairs as strings, like the reference (a-b=... before a=...)", () => {
    expect(canonicalQuery("a=1&a-b=2")).toBe("a-b=2&a=1");
  });

  it("keeps a stray % literal next to a valid escape, and # as data", () => {
    expect(canonicalQuery("a=%41%&b=50%")).toBe("a=A%25&b=50%25");
    expect(canonicalQuery("q=a#b&r=c")).toBe("q=a%23b&r=c");
  });

  it("keeps bytes that are not UTF-8 as they were sent", () => {
    expect(canonicalQuery("q=%FF%e1%88%b4")).toBe("q=%FF%E1%88%B4");
  });
});

describe("formatLongDate", () => {
  it("is YYYYMMDDTHHMMSSZ in UTC, seconds truncated", () => {
    expect(formatLongDate(new Date("2024-12-31T23:59:59.999Z"))).toBe("20241231T235959Z");
  });
});
