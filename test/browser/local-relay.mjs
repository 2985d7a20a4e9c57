/**
 * Starts what the browser test drives: the Bloomreach sandbox (src/dev) and `wrangler dev --local`
 * on free loopback ports, with throwaway state (`--persist-to` a temp dir) and test secrets passed
 * as `--var`, so neither a developer's `.wrangler/state` nor a running `npm start` is touched.
 * Stopping signals wrangler's whole process group: workerd runs as a grandchild.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startBloomreachSandbox } from "../../src/dev/bloomreach-sandbox.mjs";
import { quietWranglerEnv } from "../../src/dev/quiet-env.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");
const HOST = "127.0.0.1";

export const SECRETS = {
  ADMIN_TOKEN: "browser-test-admin-token",
  ENCRYPTION_KEY: "YnJvd3Nlci10ZXN0LWVuY3J5cHRpb24ta2V5LTMyYiE=",
  WEBHOOK_BASIC_USER: "antavo",
  WEBHOOK_BASIC_PASSWORD: "browser-test-webhook-password",
  WEBHOOK_JWT_SECRET: "browser-test-jwt-secret",
};

export const SANDBOX = {
  projectToken: "browser-project",
  apiKeyId: "browser-key",
  apiSecret: "browser-bloomreach-secret",
};

const QUIET_ENV = quietWranglerEnv({ FORCE_COLOR: "0", CI: "true" });

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function run(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(WRANGLER, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`wrangler ${args.slice(0, 3).join(" ")} failed (${code}):\n${output}`)),
    );
  });
}

async function waitFor(url, child, log, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${log()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s:\n${log()}`);
}

export async function startLocalRelay() {
  const state = mkdtempSync(join(tmpdir(), "relay-browser-state-"));
  const [relayPort, sandboxPort, inspectorPort] = [await freePort(), await freePort(), await freePort()];
  const sandbox = await startBloomreachSandbox({ host: HOST, port: sandboxPort, ...SANDBOX });
  await run(["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], QUIET_ENV);

  const vars = Object.entries(SECRETS).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const child = spawn(
    WRANGLER,
    [
      "dev",
      "--local",
      "--ip",
      HOST,
      "--port",
      String(relayPort),
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      state,
      // GET /__scheduled runs the cron handler on demand, as under npm start (date workflows).
      "--test-scheduled",
      "--show-interactive-dev-session=false",
      "--log-level",
      "warn",
      ...vars,
    ],
    { cwd: ROOT, env: QUIET_ENV, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  let output = "";
  const keep = (d) => {
    output = (output + d).slice(-20_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const url = `http://${HOST}:${relayPort}`;

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }, 5000);
      await exited;
      clearTimeout(timer);
    }
    await sandbox.close();
    rmSync(state, { recursive: true, force: true });
  };

  try {
    await waitFor(`${url}/healthz`, child, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, sandbox, stop, log: () => output };
}
