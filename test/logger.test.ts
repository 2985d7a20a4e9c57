import { importPKCS8, SignJWT } from "jose";
import { describe, expect, it, vi } from "vitest";
import { createLogger, type LogLevel, logger, REDACTED, withLogScope } from "../src/lib/logger";
import { appWith } from "./support/app";
import { optInEvent } from "./support/fixtures";
import { json } from "./support/http";
import { TEST_RS256_PRIVATE_KEY } from "./support/jwt-keys";

function collector() {
  const lines: { level: LogLevel; line: string }[] = [];
  const log = createLogger({}, (level, line) => lines.push({ level, line }));
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l.line) as Record<string, unknown>) };
}

describe("logger", () => {
  it("writes one JSON line per entry: level and message first, then bindings and fields", () => {
    const { log, lines, parsed } = collector();
    log.child({ requestId: "req-1" }).info("delivered", { customerId: "c1", count: 3 });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.line).not.toContain("\n");
    expect(Object.keys(parsed()[0]!)).toEqual(["level", "message", "requestId", "customerId", "count"]);
    expect(parsed()[0]).toEqual({
      level: "info",
      message: "delivered",
      requestId: "req-1",
      customerId: "c1",
      count: 3,
    });
  });

  it("passes each level to the sink and never lets a field override level or message", () => {
    const { log, lines, parsed } = collector();
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e", { level: "info", message: "spoofed" });
    expect(lines.map((l) => l.level)).toEqual(["debug", "info", "warn", "error"]);
    expect(parsed().map((p) => p.level)).toEqual(["debug", "info", "warn", "error"]);
    expect(parsed()[3]).toEqual({ level: "error", message: "e" });
  });

  it("children add to their parent's bindings (a batch id, then a customer)", () => {
    const { log, parsed } = collector();
    log.child({ batchId: "b1" }).child({ customerId: "c9" }).warn("slow");
    expect(parsed()[0]).toEqual({ level: "warn", message: "slow", batchId: "b1", customerId: "c9" });
  });

  it("redacts secret-looking keys at any depth, in fields and bindings", () => {
    const { log, lines, parsed } = collector();
    log.child({ authorization: "Bearer abc.def" }).error("saving failed", {
      connection: { baseUrl: "https://api.example.com", apiSecret: "TOP-SECRET-1", projectToken: "TOP-SECRET-2" },
      headers: [{ Authorization: "Basic dXNlcjpwYXNz" }, { cookie: "relay_session=TOP-SECRET-3" }],
      password: "TOP-SECRET-4",
      WEBHOOK_JWT_SECRET: "TOP-SECRET-5",
      api_key: "TOP-SECRET-6",
      ADMIN_TOKEN: "TOP-SECRET-7",
    });
    expect(lines[0]!.line).not.toContain("TOP-SECRET");
    expect(lines[0]!.line).not.toContain("abc.def");
    expect(lines[0]!.line).not.toContain("dXNlcjpwYXNz");
    const entry = parsed()[0] as Record<string, any>;
    expect(entry.authorization).toBe(REDACTED);
    expect(entry.connection).toEqual({
      baseUrl: "https://api.example.com",
      apiSecret: REDACTED,
      projectToken: REDACTED,
    });
    expect(entry.headers).toEqual([{ Authorization: REDACTED }, { cookie: REDACTED }]);
    expect([entry.password, entry.WEBHOOK_JWT_SECRET, entry.api_key, entry.ADMIN_TOKEN]).toEqual([
      REDACTED,
      REDACTED,
      REDACTED,
      REDACTED,
    ]);
  });

  it("redacts an HTTP credential wherever it appears as a value, the message included", () => {
    const { log, lines } = collector();
    log.info("refused Authorization: Bearer eyJhbGciOi.x.y", {
      header: "Basic dXNlcjpwYXNz",
      note: "bearer of good news",
    });
    expect(lines[0]!.line).not.toContain("eyJhbGciOi");
    expect(lines[0]!.line).not.toContain("dXNlcjpwYXNz");
    expect(JSON.parse(lines[0]!.line)).toMatchObject({
      message: `refused Authorization: Bearer ${REDACTED}`,
      header: `Basic ${REDACTED}`,
      note: "bearer of good news",
    });
  });

  it("reduces errors to name and message, and survives cycles, bigints and undefined", () => {
    const { log, parsed } = collector();
    const cyclic: Record<string, unknown> = { name: "loop" };
    cyclic.self = cyclic;
    const error = new TypeError("boom");
    log.error("failed", { error, cyclic, big: 10n, missing: undefined });
    expect(parsed()[0]).toEqual({
      level: "error",
      message: "failed",
      error: { name: "TypeError", message: "boom" },
      cyclic: { name: "loop", self: "[circular]" },
      big: "10",
    });
  });

  it("writes through the console method of the level by default", () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const info = vi.spyOn(console, "log").mockImplementation(() => {});
    try {
      logger.child({ requestId: "r" }).error("x", { token: "t" });
      logger.info("y");
      expect(JSON.parse(error.mock.calls[0]![0] as string)).toEqual({
        level: "error",
        message: "x",
        requestId: "r",
        token: REDACTED,
      });
      expect(JSON.parse(info.mock.calls[0]![0] as string)).toEqual({ level: "info", message: "y" });
    } finally {
      error.mockRestore();
      info.mockRestore();
    }
  });

  it("carries the request id of the answer in a request's log lines", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      // A public key that does not import is an operator error, logged by the webhook's JWT check.
      const post = appWith((deps) => ({ webhookAuth: { ...deps.webhookAuth, jwtPublicKey: "not a pem" } }));
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: "RS256", typ: "JWT" })
        .sign(await importPKCS8(TEST_RS256_PRIVATE_KEY, "RS256"));
      const response = await post("/webhooks/antavo", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify(optInEvent()),
      });
      expect(response.status).toBe(401);
      const { requestId } = (await json(response)).error;
      const lines = error.mock.calls.map((call) => JSON.parse(call[0] as string));
      expect(lines).toContainEqual({
        level: "error",
        message: "WEBHOOK_JWT_PUBLIC_KEY is not a valid SPKI PEM",
        requestId,
        code: "not_configured",
      });
      expect(error.mock.calls.join("\n")).not.toContain(token);
    } finally {
      error.mockRestore();
    }
  });
});

describe("log scope", () => {
  it("binds its fields to every line inside it, through awaits, nested scopes adding to it", async () => {
    const { log, parsed } = collector();
    await withLogScope({ batchId: "b-1", queue: "q" }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      log.info("inside");
      await withLogScope({ batchId: "b-2", customerId: "c-1" }, async () => log.warn("nested"));
    });
    log.info("outside");
    expect(parsed()).toEqual([
      { level: "info", message: "inside", batchId: "b-1", queue: "q" },
      { level: "warn", message: "nested", batchId: "b-2", queue: "q", customerId: "c-1" },
      { level: "info", message: "outside" },
    ]);
  });

  it("keeps concurrent scopes apart", async () => {
    const { log, parsed } = collector();
    const run = (id: string, ms: number) =>
      withLogScope({ requestId: id }, async () => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        log.info(id);
      });
    await Promise.all([run("slow", 5), run("fast", 1)]);
    expect(parsed().map((p) => [p.message, p.requestId])).toEqual([
      ["fast", "fast"],
      ["slow", "slow"],
    ]);
  });
});
