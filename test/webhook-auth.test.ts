import { describe, expect, it } from "vitest";
import { optInEvent } from "./support/fixtures";
import { basicAuth, json, postWebhook, secrets, signJwt } from "./support/http";

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
