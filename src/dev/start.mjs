/**
 * `npm start`: the whole relay on one machine with no Cloudflare account and no internet.
 * Prepares `.dev.vars` and the local D1, starts the Bloomreach and Antavo sandboxes in this process and
 * `wrangler dev` (every binding local) as a child in its own process group, seeds a demo
 * configuration through the admin API, and prints where to look. Ctrl-C stops it all: the child's
 * whole group is signalled, because wrangler runs workerd and esbuild as grandchildren.
 *
 * Flags: `--port`, `--bloomreach-port`, `--antavo-port`, `--reset` (start from an empty local
 * database, as `npm run reset` does), `--fail=500x3` (the Bloomreach sandbox fails its next calls,
 * see sandbox-failures.mjs).
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ANTAVO_SANDBOX_DEFAULTS, startAntavoSandbox } from "./antavo-sandbox.mjs";
import { SANDBOX_DEFAULTS, startBloomreachSandbox } from "./bloomreach-sandbox.mjs";
import { readDevVars } from "./dev-vars.mjs";
import { quietWranglerEnv } from "./quiet-env.mjs";
import { resetLocalState } from "./reset.mjs";
import { parseFailureFlag } from "./sandbox-failures.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");
const HOST = "127.0.0.1";
const { values: flags } = parseArgs({
  options: {
    port: { type: "string" },
    "bloomreach-port": { type: "string" },
    "antavo-port": { type: "string" },
    reset: { type: "boolean", default: false },
    fail: { type: "string" },
  },
});
/**
 * Ports: a flag wins over the environment, which wins over the defaults (8787, 8788, 8789). Of the
 * variables the specific name wins over the generic one (RELAY_PORT over PORT, BLOOMREACH_SANDBOX_PORT
 * over SANDBOX_PORT), so a shell that exports PORT for something else is overridden on purpose only.
 */
function portFrom(flagName, flag, variables, fallback) {
  const named = variables.find((name) => process.env[name] !== undefined && process.env[name] !== "");
  const [source, raw] = flag !== undefined ? [`--${flagName}`, flag] : named ? [named, process.env[named]] : [];
  if (raw === undefined) return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`${source} must be a port number, not ${raw}`);
  return port;
}
let RELAY_PORT;
let BLOOMREACH_SANDBOX_PORT;
let ANTAVO_SANDBOX_PORT;
let SANDBOX_FAILURE;
try {
  RELAY_PORT = portFrom("port", flags.port, ["RELAY_PORT", "PORT"], 8787);
  BLOOMREACH_SANDBOX_PORT = portFrom(
    "bloomreach-port",
    flags["bloomreach-port"],
    ["BLOOMREACH_SANDBOX_PORT", "SANDBOX_PORT"],
    SANDBOX_DEFAULTS.port,
  );
  ANTAVO_SANDBOX_PORT = portFrom(
    "antavo-port",
    flags["antavo-port"],
    ["ANTAVO_SANDBOX_PORT"],
    ANTAVO_SANDBOX_DEFAULTS.port,
  );
  if (flags.fail !== undefined) {
    const parsed = parseFailureFlag(flags.fail);
    if (!parsed.ok) throw new Error(parsed.message);
    SANDBOX_FAILURE = parsed.plan;
  }
} catch (error) {
  console.error(`[start] ${error.message}`);
  process.exit(2);
}
const RELAY = `http://${HOST}:${RELAY_PORT}`;
const READY_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 5_000;

const QUIET_ENV = quietWranglerEnv({ FORCE_COLOR: process.stdout.isTTY ? "1" : "0" });

const log = (message) => console.log(`[start] ${message}`);

let relay;
let sandbox;
let antavoSandbox;
let stopping = false;

async function main() {
  const vars = ensureDevVars();
  for (const name of ["ADMIN_TOKEN", "WEBHOOK_BASIC_USER", "WEBHOOK_BASIC_PASSWORD", "ENCRYPTION_KEY"]) {
    if (!vars[name]) throw new Error(`.dev.vars has no ${name}; compare it with .dev.vars.example`);
  }
  if (await portOpen(RELAY_PORT))
    throw new Error(
      `port ${RELAY_PORT} is already in use (another npm start or wrangler dev?); choose another: npm start -- --port 8790`,
    );

  if (flags.reset) resetLocalState((message) => log(`--reset: ${message}`));

  // CI=true: wrangler asks "apply these migrations?" otherwise, and stdin is not a terminal here.
  log("applying D1 migrations to the local database");
  await run(WRANGLER, ["d1", "migrations", "apply", "DB", "--local"], { ...QUIET_ENV, CI: "true" });

  try {
    sandbox = await startBloomreachSandbox({ host: HOST, port: BLOOMREACH_SANDBOX_PORT });
  } catch (error) {
    throw new Error(
      `the Bloomreach sandbox could not listen on ${HOST}:${BLOOMREACH_SANDBOX_PORT} (choose another with --bloomreach-port): ${error.message}`,
    );
  }
  log(`Bloomreach sandbox listening on ${sandbox.url}`);
  if (SANDBOX_FAILURE) log(`--fail=${flags.fail}: ${sandbox.setFailure(SANDBOX_FAILURE)}`);
  try {
    antavoSandbox = await startAntavoSandbox({ host: HOST, port: ANTAVO_SANDBOX_PORT });
  } catch (error) {
    throw new Error(
      `the Antavo sandbox could not listen on ${HOST}:${ANTAVO_SANDBOX_PORT} (choose another with --antavo-port): ${error.message}`,
    );
  }
  antavoSandbox.seedCustomer(DEMO_CUSTOMER);
  log(`Antavo sandbox listening on ${antavoSandbox.url}`);

  log("starting wrangler dev (local mode)");
  relay = spawn(
    WRANGLER,
    [
      "dev",
      "--local",
      "--ip",
      HOST,
      "--port",
      String(RELAY_PORT),
      "--test-scheduled",
      "--show-interactive-dev-session=false",
    ],
    { cwd: ROOT, env: QUIET_ENV, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  prefixLines(relay.stdout, process.stdout);
  prefixLines(relay.stderr, process.stderr);
  relay.once("exit", (code, signal) => {
    if (stopping) return;
    console.error(`[start] wrangler dev exited (${signal ?? `code ${code}`}); stopping`);
    void shutdown(code || 1);
  });

  await waitForHealth();
  await seed(vars);
  startCronTicker();
  printBanner(vars);
}

/**
 * `wrangler dev` never fires cron triggers by itself (--test-scheduled only exposes them), so the
 * start script plays Cloudflare's scheduler: at the top of every minute it calls the Worker's
 * scheduled handler, which runs the date workflows and the sweeper exactly as deployed.
 */
function startCronTicker() {
  const tick = async () => {
    if (stopping) return;
    try {
      await fetch(`${RELAY}/__scheduled?cron=${encodeURIComponent("* * * * *")}`, {
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      log(`cron tick failed: ${error.message}`);
    }
  };
  const untilNextMinute = 60_000 - (Date.now() % 60_000);
  setTimeout(() => {
    void tick();
    setInterval(() => void tick(), 60_000).unref();
  }, untilNextMinute).unref();
}

function ensureDevVars() {
  const path = join(ROOT, ".dev.vars");
  if (!existsSync(path)) {
    copyFileSync(join(ROOT, ".dev.vars.example"), path);
    log("created .dev.vars from .dev.vars.example (local-only secrets)");
  }
  return readDevVars(path);
}

function run(command, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "inherit", "inherit"] });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${args.slice(0, 3).join(" ")} failed with code ${code}`)),
    );
  });
}

function portOpen(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function prefixLines(stream, out) {
  let rest = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk) => {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop();
    for (const line of lines) out.write(`[wrangler] ${line}\n`);
  });
  stream.on("end", () => rest && out.write(`[wrangler] ${rest}\n`));
}

async function waitForHealth() {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (stopping) throw new Error("stopped");
    try {
      const response = await fetch(`${RELAY}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the relay did not answer ${RELAY}/healthz within ${READY_TIMEOUT_MS / 1000} s`);
}

async function admin(vars, method, path, body) {
  const response = await fetch(`${RELAY}${path}`, {
    method,
    headers: { authorization: `Bearer ${vars.ADMIN_TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** The demo customer: in the Antavo sandbox and the relay's mirror, so a Bloomreach webhook finds it. */
const DEMO_CUSTOMER = {
  id: "cust-1",
  email: "ada@example.com",
  first_name: "Ada",
  last_name: "Lovelace",
  score: 120,
  spendable: 80,
  tiers: [{ name: "Silver" }],
};

async function seed(vars) {
  const expectOk = (what, r) => {
    if (r.status >= 300) throw new Error(`seeding ${what} failed: ${r.status} ${JSON.stringify(r.body)}`);
  };
  expectOk(
    "the connection",
    await admin(vars, "PUT", "/api/connection", {
      baseUrl: sandbox.url,
      projectToken: SANDBOX_DEFAULTS.projectToken,
      apiKeyId: SANDBOX_DEFAULTS.apiKeyId,
      apiSecret: SANDBOX_DEFAULTS.apiSecret,
    }),
  );

  const fields = [
    ["first_name", "first_name"],
    ["last_name", "last_name"],
    ["score", "loyalty_points"],
    ["spendable", "loyalty_spendable"],
    ["tier", "loyalty_tier"],
  ].map(([loyaltyField, remoteField]) => ({ loyaltyField, remoteField }));
  let mapping = await admin(vars, "PUT", "/api/mapping", {
    hardId: { loyaltyField: "email", remoteId: "registered" },
    fields,
  });
  if (mapping.status === 409 && mapping.body?.error?.code === "hard_id_locked") {
    // A previous start (or an admin) already set the hard ID, which can be set once: keep it.
    const current = await admin(vars, "GET", "/api/mapping");
    expectOk("the mapping (read)", current);
    mapping = await admin(vars, "PUT", "/api/mapping", { hardId: current.body.hardId, fields });
  }
  expectOk("the mapping", mapping);

  expectOk(
    "the settings",
    await admin(vars, "PUT", "/api/settings", {
      asyncSync: true,
      events: [
        { action: "opt_in", remoteEvent: "loyalty_opt_in" },
        { action: "point_add", remoteEvent: "loyalty_points_added" },
        { action: "checkout", remoteEvent: "loyalty_checkout" },
      ],
    }),
  );
  // The Antavo API connection points at the local Antavo sandbox (enrichment, claims, and the
  // events of the Bloomreach -> Antavo direction).
  expectOk(
    "the Antavo connection",
    await admin(vars, "PUT", "/api/antavo", {
      baseUrl: antavoSandbox.url,
      environment: antavoSandbox.environment,
      apiKey: antavoSandbox.apiKey,
      apiSecret: antavoSandbox.apiSecret,
    }),
  );
  const imported = await fetch(`${RELAY}/api/customers/import`, {
    method: "POST",
    headers: { authorization: `Bearer ${vars.ADMIN_TOKEN}`, "content-type": "application/x-ndjson" },
    body: `${JSON.stringify(DEMO_CUSTOMER)}\n`,
  });
  expectOk("the demo customer", { status: imported.status, body: await imported.text() });
  // The worked example, only while no rule exists: rules saved in the UI survive a restart.
  const rules = await admin(vars, "GET", "/api/inbound");
  expectOk("the inbound rules (read)", rules);
  if (rules.body.rules.length === 0)
    expectOk("the inbound rules", await admin(vars, "PUT", "/api/inbound", { rules: [NEWSLETTER_RULE] }));
  log("seeded the demo connections, mapping, settings, customer and inbound rule");
}

/** README's worked example: 50 points for a newsletter sign-up. */
const NEWSLETTER_RULE = {
  eventType: "newsletter_signup",
  antavoAction: "point_add",
  data: { points: 50, reason: "{{properties.source}}" },
};

function sampleBloomreachCurl(vars) {
  const body = {
    id: `demo-signup-${Date.now().toString(36)}`,
    event_type: "newsletter_signup",
    customer_ids: { registered: DEMO_CUSTOMER.email },
    properties: { source: "footer" },
  };
  const token = vars.BLOOMREACH_WEBHOOK_TOKEN || "<BLOOMREACH_WEBHOOK_TOKEN is not set in .dev.vars>";
  return `curl -i -H 'authorization: Bearer ${token}' -H 'content-type: application/json' \\\n  -d '${JSON.stringify(body)}' \\\n  ${RELAY}/webhooks/bloomreach`;
}

function sampleCurl(vars) {
  const event = {
    // A fresh id per start: the relay remembers ids (dedupe), so a fixed one would be a duplicate.
    id: `demo-opt-in-${Date.now().toString(36)}`,
    action: "opt_in",
    customer: {
      id: "cust-1",
      email: "ada@example.com",
      first_name: "Ada",
      last_name: "Lovelace",
      score: 120,
      spendable: 80,
      tiers: [{ name: "Silver" }],
    },
    data: { channel: "web" },
  };
  return `curl -i -u '${vars.WEBHOOK_BASIC_USER}:${vars.WEBHOOK_BASIC_PASSWORD}' -H 'content-type: application/json' \\\n  -d '${JSON.stringify(event)}' \\\n  ${RELAY}/webhooks/antavo`;
}

function printBanner(vars) {
  const line = "-".repeat(78);
  console.log(`\n${line}
 antavo-bloomreach-relay is running locally (every binding local; Ctrl-C stops everything)

   relay                ${RELAY}            (GET /healthz)
   webhook              POST ${RELAY}/webhooks/antavo  (Basic ${vars.WEBHOOK_BASIC_USER}:${vars.WEBHOOK_BASIC_PASSWORD})
   admin API            ${RELAY}/api/*  (Authorization: Bearer ${vars.ADMIN_TOKEN})
   Bloomreach sandbox   ${sandbox.url}/  (what the relay sent; JSON at /records)
                        project ${SANDBOX_DEFAULTS.projectToken}, API key ${SANDBOX_DEFAULTS.apiKeyId}, secret ${SANDBOX_DEFAULTS.apiSecret}
                        make calls fail: the forms on that page, or
                        curl -X POST '${sandbox.url}/fail?status=503&times=3'
                        (429/5xx retry, a refused command or 400 ends dead, 401 pauses delivery)
   Antavo sandbox       ${antavoSandbox.url}/  (signed events the relay sent; JSON at /records)
                        environment ${ANTAVO_SANDBOX_DEFAULTS.environment}, API key ${ANTAVO_SANDBOX_DEFAULTS.apiKey}, secret ${ANTAVO_SANDBOX_DEFAULTS.apiSecret}
   cron                 fired every minute by this script; now: curl '${RELAY}/__scheduled?cron=*+*+*+*+*'

 Send a sample Antavo opt_in event (it reaches the sandbox ~2 s later, the queue's batch timeout;
 sending it twice shows the dedupe: the second answer says "duplicates":1):

${sampleCurl(vars)}

 Then look at ${sandbox.url}/ and at the delivery log:
   curl -H 'authorization: Bearer ${vars.ADMIN_TOKEN}' ${RELAY}/api/deliveries

 The other way: a Bloomreach scenario's Webhook node earns 50 points for a newsletter sign-up
 (rules at ${RELAY}/admin/inbound); the signed Antavo event appears at ${antavoSandbox.url}/:

${sampleBloomreachCurl(vars)}

 Note: saving a file under src/ reloads the Worker, and the local queue keeps messages in memory,
 so an event accepted less than ~2 s before a reload loses its queue message locally (Cloudflare's
 queue is durable); the sweeper in the minute cron sends it again after 15 minutes.
${line}\n`);
}

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  log("stopping");
  if (relay && relay.exitCode === null && relay.signalCode === null) {
    const exited = new Promise((resolve) => relay.once("exit", resolve));
    signalGroup(relay.pid, "SIGTERM");
    const timer = setTimeout(() => signalGroup(relay.pid, "SIGKILL"), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }
  // workerd can outlive wrangler for a moment; its group must not keep the ports.
  if (relay) signalGroup(relay.pid, "SIGKILL");
  await sandbox?.close();
  await antavoSandbox?.close();
  process.exit(code);
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}

process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));
process.on("SIGHUP", () => void shutdown(0));

main().catch((error) => {
  console.error(`[start] ${error.message}`);
  void shutdown(1);
});
