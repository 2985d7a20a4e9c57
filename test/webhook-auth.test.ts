import { importPKCS8, type JWTPayload, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { verifyJwt } from "../src/lib/jwt";
import { appWith } from "./support/app";
import { optInEvent } from "./support/fixtures";
import { basicAuth, json, postWebhook, secrets, signJwt } from "./support/http";
import { TEST_RS256_PRIVATE_KEY, TEST_RS256_PUBLIC_KEY } from "./support/jwt-keys";

const now = () => Math.floor(Date.now() / 1000);

describe("webhook authentication", () => {
  it("refuses a call without credentials", async () => {
    const response = await postWebhook(optInEvent(), { auth: null });
    expect(response.status).toBe(401);
    const body = await json(response);
    expect(body.error.code).toBe("unauthorized");
    expect(body.error.requestId).toBeTruthy();
  });

  it("refuses wrong Basic credentials (user or password)", async () => {
    expect((await postWebhook(optInEvent(), { auth: basicAuth(secrets.basicUser, "nope") })).status).toBe(401);
    expect((await postWebhook(optInEvent(), { auth: basicAuth("someone", secrets.basicPassword) })).status).toBe(401);
    expect((await postWebhook(optInEvent(), { auth: "Basic !!!not-base64" })).status).toBe(401);
  });

  it("accepts the right Basic credentials", async () => {
    expect((await postWebhook(optInEvent({ id: "auth-basic" }))).status).toBe(202);
  });

  it("accepts a valid HS256 JWT", async () => {
    const token = await signJwt({ iss: "antavo", exp: now() + 300 });
    expect((await postWebhook(optInEvent({ id: "auth-jwt" }), { auth: `Bearer ${token}` })).status).toBe(202);
  });

  it("refuses an expired JWT beyond the leeway", async () => {
    const token = await signJwt({ exp: now() - 600 });
    const response = await postWebhook(optInEvent(), { auth: `Bearer ${token}` });
    expect(response.status).toBe(401);
    expect((await json(response)).error.message).toMatch(/expired/);
  });

  it("refuses a JWT that is not yet valid", async () => {
    const token = await signJwt({ nbf: now() + 600 });
    expect((await postWebhook(optInEvent(), { auth: `Bearer ${token}` })).status).toBe(401);
  });

  it("refuses a JWT signed with another key", async () => {
    const token = await signJwt({ exp: now() + 300 }, "another-secret");
    expect((await postWebhook(optInEvent(), { auth: `Bearer ${token}` })).status).toBe(401);
  });

  it("refuses alg none and other algorithms", async () => {
    const none = `${(await signJwt({ exp: now() + 300 }, secrets.jwtSecret, { alg: "none", typ: "JWT" }))
      .split(".")
      .slice(0, 2)
      .join(".")}.`;
    const noneResponse = await postWebhook(optInEvent(), { auth: `Bearer ${none}` });
    expect(noneResponse.status).toBe(401);
    expect((await json(noneResponse)).error.message).toMatch(/algorithm none/);
    const hs512 = await signJwt({ exp: now() + 300 }, secrets.jwtSecret, { alg: "HS512", typ: "JWT" });
    expect((await postWebhook(optInEvent(), { auth: `Bearer ${hs512}` })).status).toBe(401);
  });
});

const exportPem = async (key: CryptoKey) =>
  `-----BEGIN PUBLIC KEY-----\n${btoa(
    String.fromCharCode(...new Uint8Array((await crypto.subtle.exportKey("spki", key)) as ArrayBuffer)),
  )
    .match(/.{1,64}/g)!
    .join("\n")}\n-----END PUBLIC KEY-----`;

async function otherRsaKeyPair() {
  return (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
}

const signRs256 = async (claims: JWTPayload, key?: CryptoKey) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", typ: "JWT" })
    .sign(key ?? (await importPKCS8(TEST_RS256_PRIVATE_KEY, "RS256")));

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** The same signature bytes, spelled differently: the last character's unused low bit set. */
function withNonCanonicalSignature(token: string): string {
  const last = token.at(-1)!;
  return token.slice(0, -1) + B64URL[B64URL.indexOf(last) ^ 1];
}

describe("webhook JWT: what the hand-written verifier let through", () => {
  const refusedJwt = async (token: string) => {
    const response = await postWebhook(optInEvent(), { auth: `Bearer ${token}` });
    return { status: response.status, message: (await json(response)).error?.message as string | undefined };
  };

  it.each([
    ["exp as a string", `{"exp":"${now() - 3600}"}`],
    ["exp null", `{"exp":null}`],
    ["exp 1e400 (Infinity after JSON.parse)", `{"exp":1e400}`],
    ["nbf as a string", `{"nbf":"${now() + 3600}"}`],
    ["nbf -1e400 (-Infinity)", `{"nbf":-1e400,"exp":${now() + 300}}`],
  ])("refuses a non-numeric or non-finite date claim: %s", async (_, claims) => {
    const { status, message } = await refusedJwt(await signJwt(claims));
    expect(status).toBe(401);
    expect(message).toMatch(/invalid JWT/);
  });

  it("refuses a token whose crit names an extension the relay does not understand", async () => {
    const token = await signJwt({ exp: now() + 300 }, secrets.jwtSecret, {
      alg: "HS256",
      typ: "JWT",
      crit: ["x-antavo-ext"],
      "x-antavo-ext": true,
    });
    expect((await refusedJwt(token)).status).toBe(401);
  });

  it("refuses a non-canonical base64url signature (same bytes, other spelling)", async () => {
    const token = await signJwt({ exp: now() + 300 });
    expect((await postWebhook(optInEvent({ id: "canonical" }), { auth: `Bearer ${token}` })).status).toBe(202);
    const respelled = withNonCanonicalSignature(token);
    expect(respelled).not.toBe(token);
    expect((await refusedJwt(respelled)).status).toBe(401);
  });

  it("refuses trailing text after the token or the Basic credentials, and extra segments", async () => {
    const token = await signJwt({ exp: now() + 300 });
    expect((await refusedJwt(`${token} trailing`)).status).toBe(401);
    expect((await refusedJwt(`${token}.extra`)).status).toBe(401);
    expect((await postWebhook(optInEvent(), { auth: `${basicAuth()} trailing` })).status).toBe(401);
  });

  it("accepts RS256 with the configured public key, refuses it signed by another key", async () => {
    const good = await signRs256({ iss: "antavo", exp: now() + 300 });
    expect((await postWebhook(optInEvent({ id: "auth-rs256" }), { auth: `Bearer ${good}` })).status).toBe(202);
    const other = await signRs256({ exp: now() + 300 }, (await otherRsaKeyPair()).privateKey);
    const response = await refusedJwt(other);
    expect(response.status).toBe(401);
    expect(response.message).toMatch(/bad signature/);
  });

  it("refuses HS256 when only RS256 is configured, even keyed with the public key's own text", async () => {
    const rsOnly = appWith(() => ({ webhookAuth: { jwtPublicKey: TEST_RS256_PUBLIC_KEY } }));
    const post = (auth: string) =>
      rsOnly("/webhooks/antavo", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: auth },
        body: JSON.stringify(optInEvent({ id: "rs-only" })),
      });
    for (const secret of [TEST_RS256_PUBLIC_KEY, secrets.jwtSecret]) {
      const response = await post(`Bearer ${await signJwt({ exp: now() + 300 }, secret)}`);
      expect(response.status).toBe(401);
      expect((await json(response)).error.message).toMatch(/algorithm HS256 is not accepted/);
    }
    expect((await post(basicAuth())).status).toBe(401);
    expect((await post(`Bearer ${await signRs256({ exp: now() + 300 })}`)).status).toBe(202);
  });

  it("refuses every call with neither Basic nor a JWT key configured", async () => {
    const open = appWith(() => ({ webhookAuth: {} }));
    const response = await open("/webhooks/antavo", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await signRs256({})}` },
      body: JSON.stringify(optInEvent()),
    });
    expect(response.status).toBe(401);
  });
});

describe("verifyJwt with injected keys", () => {
  const at = now();

  it("binds each algorithm to its own key", async () => {
    const { publicKey, privateKey } = await otherRsaKeyPair();
    const pem = await exportPem(publicKey);
    const rs = await signRs256({ exp: at + 60 }, privateKey);
    expect((await verifyJwt(rs, { rs256PublicKey: pem }, at)).ok).toBe(true);
    expect((await verifyJwt(rs, { rs256PublicKey: TEST_RS256_PUBLIC_KEY }, at)).ok).toBe(false);
    expect((await verifyJwt(rs, { hs256Secret: secrets.jwtSecret }, at)).ok).toBe(false);
    const hs = await signJwt({ exp: at + 60 }, pem);
    expect(await verifyJwt(hs, { rs256PublicKey: pem }, at)).toEqual({
      ok: false,
      reason: "algorithm HS256 is not accepted",
    });
    expect((await verifyJwt(hs, { hs256Secret: pem, rs256PublicKey: pem }, at)).ok).toBe(true);
  });

  it("allows 60 s of clock skew and no more", async () => {
    const token = await signJwt({ exp: at, nbf: at });
    const keys = { hs256Secret: secrets.jwtSecret };
    expect((await verifyJwt(token, keys, at + 59)).ok).toBe(true);
    expect((await verifyJwt(token, keys, at + 61)).ok).toBe(false);
    expect((await verifyJwt(token, keys, at - 59)).ok).toBe(true);
    expect(await verifyJwt(token, keys, at - 61)).toEqual({ ok: false, reason: "token not yet valid" });
  });

  it("answers a reason, never an exception, for a key that does not import", async () => {
    const token = await signRs256({});
    expect(await verifyJwt(token, { rs256PublicKey: "not a pem" }, at)).toEqual({
      ok: false,
      reason: "the relay's JWT key is not usable",
    });
  });
});
