/**
 * `npm run bench`: the built relay in workerd (Miniflare's API, no `wrangler dev`), measured in one
 * run against baselines served by the same workerd under the same load:
 *   (a) async ingest of one event per request: req/s, p50, p99, as ratios to a bare Hono route
 *       that parses the body and to a route that only does the queue hand-off;
 *   (b) an end-to-end burst through queue, CustomerSync objects and a loopback fake Bloomreach
 *       (50 ms a batch): delivered events/s, Bloomreach calls per 1,000 events, lost, duplicated;
 *   (c) enrichment: a burst whose customers lack a mapped field at Antavo too, against a loopback
 *       fake Antavo: Antavo calls per 1,000 events (at most one per customer per enrichment TTL);
 *   (d) peak RSS of workerd and of node;
 *   (e) floor: one fixed burst through a floor consumer (baseline-worker.mjs: one DO round trip with
 *       one storage write per customer, then the Bloomreach calls) and through the relay, same run:
 *       delivered events/s of both and relay / floor;
 *   (f) slow: one fixed burst against the fake Bloomreach at 50 ms and again at 500 ms a call;
 *   (g) workflows: one fixed burst with 0, 20 and 100 active, mostly non-matching workflows, and
 *       with 0 again: consumer busy ms per event and the ratio 100 / 0 (the mean of both 0 runs);
 *   (h) inbound: the other direction, Bloomreach webhooks in (POST /webhooks/bloomreach) and Antavo
 *       events out to the loopback fake Antavo: events/s to the fake (and as a ratio to the burst's
 *       events/s to Bloomreach when both run), Antavo calls per 1,000 events (bulk: <= 20), lost, duplicated;
 *   (h) backfill: BENCH_BACKFILL_CUSTOMERS (default 100,000) mirrored customers sent by
 *       `POST /api/backfill` against the 50 ms fake: customers/s, Bloomreach calls per 1,000
 *       customers, and the p99 of live webhook deliveries (a steady stream, post to the fake's
 *       answer) during the backfill as a ratio to the p99 of the same stream without it;
 * with (e) to (g) and the burst, the DO round trips, storage calls and D1 statements per consumer
 * batch, counted by wrappers around the built bundle (counting.mjs; BENCH_COUNT=0 leaves them off).
 * Targets print PASS / MISS and never fail the run: the figures are for reading, not gating.
 * Results go to test/bench/results/latest.json. BENCH_QUICK=1 runs a tenth of the load;
 * BENCH_PHASES=ingest, =burst, =floor, =slow, =workflows, =backfill, =enrich or =inbound (or a comma
 * list) runs those phases (the default is ingest,burst,enrich,inbound; floor, slow, workflows and
 * backfill run only when named, in that order, before enrich; inbound runs last); BENCH_RELAY_ROOT=<dir> builds the relay from
 * another checkout (with its own wrangler.toml and node_modules) to compare a change against this one.
 * BENCH_PROFILE=relay-ingest (or relay, baseline) records a CPU profile of that worker over the
 * phases and prints its heaviest functions (profile.mjs); a profiled run's figures are slower.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readDevVars } from "../../src/dev/dev-vars.mjs";
import { buildWorker } from "./build.mjs";
import { countingEntry } from "./counting.mjs";
import { startFakeAntavo } from "./fake-antavo.mjs";
import { BACKFILL_DOMAIN, startFakeBloomreach } from "./fake-bloomreach.mjs";
import { percentile, runLoad } from "./load.mjs";
import { startMemorySampler, workerdCpuMs } from "./memory.mjs";
import { startProfile } from "./profile.mjs";
import { FLOOR_QUEUE, readWranglerConfig, startRuntime } from "./runtime.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const QUICK = process.env.BENCH_QUICK === "1";
const PHASES = new Set((process.env.BENCH_PHASES ?? "ingest,burst,enrich,inbound").split(","));
const RELAY_ROOT = process.env.BENCH_RELAY_ROOT ?? ROOT;
const scale = (n) => (QUICK ? Math.ceil(n / 10) : n);
/** BENCH_COUNT=0 serves the bundles without the counting wrappers of counting.mjs. */
const COUNT = process.env.BENCH_COUNT !== "0";
const PROFILE = process.env.BENCH_PROFILE;
const PROFILE_INSPECTOR_PORT = 9329;

const PLAN = {
  ingest: { warmup: scale(300), requests: scale(3000), concurrency: 32, rounds: 6 },
  burst: {
    events: scale(10_000),
    customers: scale(2_000),
    perRequest: 100,
    concurrency: 4,
    timeoutSeconds: 180,
    settleSeconds: 4,
  },
  // Runs after the burst, with customers of its own: the burst's customers are complete, this one's
  // lack birth_date at Antavo too, so each customer is looked up once and then not for the TTL.
  enrich: {
    events: scale(2_000),
    customers: scale(200),
    perRequest: 100,
    concurrency: 4,
    timeoutSeconds: 180,
    settleSeconds: 2,
  },
  // Fixed bursts, the same through each side they compare; each phase has customers of its own.
  // Rounds alternate the order (floor, relay, then relay, floor) so that drift favours neither.
  floor: {
    events: scale(3_000),
    customers: scale(300),
    perRequest: 100,
    concurrency: 4,
    timeoutSeconds: 120,
    rounds: 2,
  },
  slow: {
    events: scale(2_000),
    customers: scale(400),
    perRequest: 100,
    concurrency: 4,
    timeoutSeconds: 150,
    latencyMs: 500,
  },
  workflows: {
    events: scale(2_000),
    customers: scale(400),
    perRequest: 100,
    concurrency: 4,
    timeoutSeconds: 120,
    counts: [0, 20, 100],
    /** Every tenth workflow is on the bench action, with a filter that never passes. */
    onBenchActionEvery: 10,
  },
  // The other direction: Bloomreach webhooks of its own customers (imported into the mirror first).
  inbound: {
    events: scale(2_000),
    customers: scale(400),
    perRequest: 100,
    concurrency: 4,
    timeoutSeconds: 120,
    settleSeconds: 2,
  },
  backfill: {
    customers: Number(process.env.BENCH_BACKFILL_CUSTOMERS ?? scale(100_000)),
    /** The live stream: one event a request, this many a second, during and without the backfill. */
    liveRate: 20,
    baselineSeconds: 20,
    timeoutSeconds: Number(process.env.BENCH_BACKFILL_TIMEOUT ?? 900),
  },
  bloomreachLatencyMs: 50,
  antavoLatencyMs: 30,
};
const TARGETS = {
  // Issue 13: async ingest >= 90 % of the parse + send baseline, its p99 <= 1.5 x the baseline's.
  ingestVsSend: 0.9,
  ingestP99VsSend: 1.5,
  // Issue 13: >= 3 x the 137 delivered events/s measured on this machine when it was filed. An
  // absolute figure, so a busy machine can miss it; the floor ratio is the same-run comparison.
  burstEventsPerSecond: 3 * 137,
  callsPerThousand: 25,
  relayVsFloor: 0.7,
  workflows100Vs0: 1.2,
  antavoCallsPerThousand: 20,
  backfillCallsPerThousand: 20,
  backfillLiveP99: 1.5,
};
const BENCH_ACTION = "bench_event";
const FAKE = { projectToken: "bench-project", apiKeyId: "bench-key", apiSecret: "bench-secret" };
const FAKE_ANTAVO = { environment: "bench", apiKey: "bench-antavo-key", apiSecret: "bench-antavo-secret" };
/** Sequence numbers of the enrichment phase start here, apart from the burst's at the fake Bloomreach. */
const ENRICH_SEQ = 1_000_000;
/** Each fixed burst of the floor, slow and workflows phases gets its own million of sequence numbers. */
const PHASE_SEQ = {
  floor: 2e6,
  floorRelay: 3e6,
  slowFast: 4e6,
  slowSlow: 5e6,
  workflows: 6e6,
  liveAlone: 20e6,
  liveDuringBackfill: 21e6,
  inbound: 7e6,
};

const log = (message) => console.log(`[bench] ${message}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const started = Date.now();
  const secrets = readDevVars(join(ROOT, ".dev.vars.example"));
  const basic = `Basic ${Buffer.from(`${secrets.WEBHOOK_BASIC_USER}:${secrets.WEBHOOK_BASIC_PASSWORD}`).toString("base64")}`;
  const tmp = mkdtempSync(join(tmpdir(), "relay-bench-"));
  const output = { stdout: [], stderr: [] };
  const partial = { stdout: "", stderr: "" };
  /** The BENCH_COUNTS lines of counting.mjs: one per consumer batch. */
  const counted = [];
  /** The relay's own "delivery batch" log lines: outcomes and the time of each stage, per batch. */
  const staged = [];
  let runtime;
  let fake;
  let fakeAntavo;
  let memory;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    memory?.stop();
    await runtime?.mf.dispose().catch(() => undefined);
    await fake?.close();
    await fakeAntavo?.close();
    rmSync(tmp, { recursive: true, force: true });
  };
  // Ctrl-C mid-run still stops workerd and closes the fake (Miniflare also stops workerd on exit).
  for (const signal of ["SIGINT", "SIGTERM"])
    process.once(signal, () => void cleanup().finally(() => process.exit(130)));
  try {
    log("building the Worker and the baseline with wrangler (deploy --dry-run)");
    // allSettled: both builds finish before a failure cleans the temp dir out from under the other.
    const builds = await Promise.allSettled([
      buildWorker(RELAY_ROOT, join(tmp, "relay")),
      buildWorker(ROOT, join(tmp, "baseline"), {
        script: "test/bench/baseline-worker.mjs",
        name: "relay-bench-baseline",
        compatibilityDate: readWranglerConfig(ROOT).compatibilityDate,
      }),
    ]);
    const failed = builds.find((b) => b.status === "rejected");
    if (failed) throw failed.reason;
    const [relay, baseline] = builds.map((b) => b.value);
    const relayClasses = readWranglerConfig(RELAY_ROOT).durableObjects.map((b) => b.class_name);
    const relayScript = COUNT ? withCounting(relay.scriptPath, relayClasses) : relay.scriptPath;
    const baselineScript = COUNT ? withCounting(baseline.scriptPath, ["FloorCustomer"]) : baseline.scriptPath;

    fake = await startFakeBloomreach({ ...FAKE, latencyMs: PLAN.bloomreachLatencyMs });
    if (PHASES.has("enrich") || PHASES.has("inbound"))
      fakeAntavo = await startFakeAntavo({ ...FAKE_ANTAVO, latencyMs: PLAN.antavoLatencyMs });
    memory = startMemorySampler();
    runtime = await startRuntime({
      root: ROOT,
      relayScript,
      relayIngestScript: relay.scriptPath,
      baselineScript,
      secrets,
      floor: { baseUrl: fake.url, ...FAKE },
      inspectorPort: PROFILE ? PROFILE_INSPECTOR_PORT : undefined,
      onOutput: (stream, text) => {
        // A line may arrive in two chunks: keep the unfinished tail for the next one.
        const lines = (partial[stream] + text).split("\n");
        partial[stream] = lines.pop();
        for (const line of lines.filter(Boolean)) {
          if (line.startsWith("BENCH_COUNTS ")) {
            counted.push({ ...JSON.parse(line.slice(13)), at: Date.now() });
            continue;
          }
          if (line.startsWith('{"level":"info","message":"delivery batch"')) {
            staged.push({ ...JSON.parse(line), at: Date.now() });
            continue;
          }
          if (output[stream].length < 200) output[stream].push(line);
          // Startup problems are shown as they happen; BENCH_WORKER_OUTPUT=1 shows every line.
          if (!runtime || process.env.BENCH_WORKER_OUTPUT === "1") console.error(`[workerd] ${line}`);
        }
      },
    });
    runtime.counted = counted;
    runtime.staged = staged;
    // workerd holds the bundles now; removing them early means an interrupted run leaves nothing.
    rmSync(tmp, { recursive: true, force: true });
    log(
      `workerd up (relay bundle ${relay.size ?? "?"}); fake Bloomreach on ${fake.url}${fakeAntavo ? `, fake Antavo on ${fakeAntavo.url}` : ""}`,
    );
    await configureRelay(runtime.urls.relay, secrets.ADMIN_TOKEN, fake.url);

    const profile = PROFILE ? await startProfile(PROFILE_INSPECTOR_PORT, PROFILE) : undefined;
    const ingest = PHASES.has("ingest") ? await measureIngest(runtime.urls, basic) : undefined;
    const burst = PHASES.has("burst") ? await measureBurst(runtime, fake, basic) : undefined;
    const floor = PHASES.has("floor") ? await measureFloor(runtime, fake, basic) : undefined;
    const slow = PHASES.has("slow") ? await measureSlow(runtime, fake, basic) : undefined;
    const workflows = PHASES.has("workflows")
      ? await measureWorkflows(runtime, fake, basic, secrets.ADMIN_TOKEN)
      : undefined;
    const backfill = PHASES.has("backfill")
      ? await measureBackfill(runtime, fake, basic, secrets.ADMIN_TOKEN)
      : undefined;
    const enrich = PHASES.has("enrich")
      ? await measureEnrichment(runtime, fake, fakeAntavo, basic, secrets.ADMIN_TOKEN)
      : undefined;
    const inbound = PHASES.has("inbound")
      ? await measureInbound(runtime, fakeAntavo, secrets.ADMIN_TOKEN, secrets.BLOOMREACH_WEBHOOK_TOKEN)
      : undefined;
    const cpu = await profile?.stop(join(ROOT, "test", "bench", "results", `${PROFILE}.cpuprofile`));
    const mem = memory.stop();
    memory = undefined;

    const results = {
      at: new Date().toISOString(),
      quick: QUICK,
      relayRoot: RELAY_ROOT,
      plan: PLAN,
      targets: TARGETS,
      runtime: {
        node: process.version,
        miniflare: JSON.parse(readFileSync(join(ROOT, "node_modules", "miniflare", "package.json"), "utf8")).version,
        bundle: relay.size,
      },
      ingest,
      burst,
      floor,
      slow,
      workflows,
      backfill,
      enrich,
      inbound,
      memory: mem,
      cpu,
      workerOutput: {
        stdoutLines: output.stdout.length,
        stderrLines: output.stderr.length,
        stderrSample: output.stderr.slice(0, 20),
      },
      seconds: (Date.now() - started) / 1000,
    };
    report(results);
    const dir = join(ROOT, "test", "bench", "results");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
    log(`wrote test/bench/results/latest.json (${results.seconds.toFixed(0)} s in all)`);
  } finally {
    await cleanup();
  }
}

/** Writes the counting entry (counting.mjs) next to a bundle; answers the entry's path. */
function withCounting(scriptPath, classNames) {
  const dir = dirname(scriptPath);
  copyFileSync(join(dirname(fileURLToPath(import.meta.url)), "counting.mjs"), join(dir, "counting.mjs"));
  const entry = join(dir, "bench-counting-entry.mjs");
  writeFileSync(entry, countingEntry(basename(scriptPath), classNames));
  return entry;
}

async function putConfig(relayUrl, adminToken, path, body) {
  const response = await fetch(`${relayUrl}${path}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`PUT ${path}: ${response.status} ${await response.text()}`);
}

const BENCH_FIELDS = [
  { loyaltyField: "first_name", remoteField: "first_name" },
  { loyaltyField: "tier", remoteField: "loyalty_tier" },
];

async function configureRelay(relayUrl, adminToken, fakeUrl) {
  const put = (path, body) => putConfig(relayUrl, adminToken, path, body);
  await put("/api/connection", { baseUrl: fakeUrl, ...FAKE });
  // A constant field per customer: one customer update on its first event, then events only.
  await put("/api/mapping", {
    hardId: { loyaltyField: "email", remoteId: "registered" },
    fields: BENCH_FIELDS,
  });
  await put("/api/settings", { asyncSync: true, events: [{ action: BENCH_ACTION, remoteEvent: BENCH_ACTION }] });
}

const customer = (n) => ({
  id: `cust-${n}`,
  email: `cust-${n}@bench.example`,
  first_name: `First${n}`,
  tiers: [{ name: n % 3 === 0 ? "Gold" : "Silver" }],
});

// ---- (a) ingest ------------------------------------------------------------------------------

async function measureIngest(urls, basic) {
  const { warmup, requests, concurrency, rounds } = PLAN.ingest;
  const targets = [
    { key: "parse", label: "baseline: Hono parse only", url: `${urls.baseline}/parse` },
    { key: "send", label: "baseline: parse + queue send", url: `${urls.baseline}/send` },
    { key: "d1Send", label: "diagnostic: parse + D1 insert + send", url: `${urls.baseline}/d1-send` },
    { key: "grouped", label: "diagnostic: the same, grouped", url: `${urls.baseline}/grouped` },
    { key: "relay", label: "relay: POST /webhooks/antavo (async)", url: `${urls.relayIngest}/webhooks/antavo` },
  ];
  let serial = 0;
  const body = (tag) => () =>
    JSON.stringify({
      id: `${tag}-${serial++}`,
      action: BENCH_ACTION,
      customer: customer(serial % 2000),
      data: { bench_seq: serial, source: "ingest" },
    });
  const load = (target, total, tag) =>
    runLoad({ url: target.url, total, concurrency, body: body(tag), headers: { authorization: basic } });

  log(
    `ingest: warm-up ${warmup} requests per route, then ${requests} per route in ${rounds} alternating rounds at concurrency ${concurrency}`,
  );
  for (const target of targets) await load(target, warmup, `warm-${target.key}`);
  const samples = Object.fromEntries(
    targets.map((t) => [t.key, { latencies: [], seconds: 0, total: 0, errors: 0, statuses: {}, cpuMs: 0 }]),
  );
  for (let round = 0; round < rounds; round++) {
    // Alternate the order so that drift (JIT, a growing table, GC) does not favour one route.
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) {
      const cpuBefore = workerdCpuMs();
      const r = await load(target, Math.ceil(requests / rounds), `r${round}-${target.key}`);
      const s = samples[target.key];
      s.cpuMs += workerdCpuMs() - cpuBefore;
      s.latencies.push(...r.latencies);
      s.seconds += r.seconds;
      s.total += r.total;
      s.errors += r.errors;
      for (const [status, n] of Object.entries(r.statuses)) s.statuses[status] = (s.statuses[status] ?? 0) + n;
    }
  }
  const routes = Object.fromEntries(
    targets.map((t) => {
      const s = samples[t.key];
      const non2xx = Object.entries(s.statuses)
        .filter(([status]) => !status.startsWith("2"))
        .reduce((n, [, c]) => n + c, 0);
      return [
        t.key,
        {
          label: t.label,
          requests: s.total,
          rps: s.total / s.seconds,
          p50Ms: percentile(s.latencies, 50),
          p99Ms: percentile(s.latencies, 99),
          workerdCpuMsPerRequest: s.cpuMs / s.total,
          errors: s.errors,
          non2xx,
          statuses: s.statuses,
        },
      ];
    }),
  );
  const ratio = (a, b) => ({
    rps: routes[a].rps / routes[b].rps,
    p50: routes[a].p50Ms / routes[b].p50Ms,
    p99: routes[a].p99Ms / routes[b].p99Ms,
  });
  return {
    routes,
    relayVsParse: ratio("relay", "parse"),
    relayVsSend: ratio("relay", "send"),
    d1SendVsSend: ratio("d1Send", "send"),
  };
}

// ---- (b) end-to-end burst --------------------------------------------------------------------

async function measureBurst(runtime, fake, basic) {
  const { events, customers, perRequest, concurrency, timeoutSeconds, settleSeconds } = PLAN.burst;
  const db = await runtime.mf.getD1Database("DB", "relay");
  const base = Math.floor(Date.now() / 1000) - events - 60;
  const requests = Math.ceil(events / perRequest);
  // Customers round-robin: each request carries 100 different customers, each customer 5 events.
  const body = (r) =>
    JSON.stringify({
      events: Array.from({ length: Math.min(perRequest, events - r * perRequest) }, (_, k) => {
        const i = r * perRequest + k;
        return {
          id: `burst-${i}`,
          action: BENCH_ACTION,
          customer: customer(i % customers),
          data: { bench_seq: i },
          created_at: base + i,
        };
      }),
    });

  log(
    `burst: ${events} events over ${customers} customers, ${perRequest} per request, ${requests} requests at concurrency ${concurrency}`,
  );
  const callsBefore = fake.stats.batchCalls;
  const t0 = Date.now();
  const cpuBefore = workerdCpuMs();
  const posted = await runLoad({
    url: `${runtime.urls.relay}/webhooks/antavo`,
    total: requests,
    concurrency,
    body,
    headers: { authorization: basic },
  });
  const postedAt = Date.now();

  const deadline = t0 + timeoutSeconds * 1000;
  let logged = { delivered: 0 };
  let lastProgress = -1;
  while (Date.now() < deadline) {
    logged = await deliveryCounts(db);
    const seen = fake.stats.seqCounts.size;
    if (seen >= events && logged.delivered + (logged.dead ?? 0) >= events) break;
    if (Math.floor(seen / 2000) !== lastProgress) {
      lastProgress = Math.floor(seen / 2000);
      log(`  ${seen} / ${events} events at the fake after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    await sleep(250);
  }
  const completeAt = fake.stats.seqCounts.size >= events ? fake.stats.lastEventAt : undefined;
  const timedOut = completeAt === undefined;
  const cpuMs = workerdCpuMs() - cpuBefore;
  // Late duplicates (a retried batch, a redelivered message) arrive after the last new event.
  await sleep(settleSeconds * 1000);
  logged = await deliveryCounts(db);
  const logSize = await db
    .prepare(
      "select count(*) as n, coalesce(sum(length(request)), 0) + coalesce(sum(length(response)), 0) as bytes from delivery_attempts",
    )
    .first();

  const distinct = fake.stats.seqCounts.size;
  const seconds = ((completeAt ?? fake.stats.lastEventAt ?? Date.now()) - t0) / 1000;
  const calls = fake.stats.batchCalls - callsBefore;
  const batches = runtime.log.batches.filter((b) => b.at >= t0 && b.queue === runtime.config.events.queue);
  const batchMs = batches.map((b) => b.ms).filter(Number.isFinite);
  const consumer = {
    batches: batches.length,
    meanSize: batches.reduce((n, b) => n + b.size, 0) / Math.max(1, batches.length),
    retriedMessages: batches.reduce((n, b) => n + (b.size - b.acked), 0),
    p50Ms: percentile(batchMs, 50),
    p99Ms: percentile(batchMs, 99),
    busySeconds: batchMs.reduce((a, b) => a + b, 0) / 1000,
    deadLetterBatches: runtime.log.batches.filter((b) => b.at >= t0 && b.queue === runtime.config.deadLetters.queue)
      .length,
    perBatch: batchCounts((runtime.counted ?? []).filter((c) => c.queue === runtime.config.events.queue && c.at >= t0)),
    stages: batchStages(stagedIn(runtime, runtime.config.events.queue, t0, Date.now())),
  };
  const postNon2xx = Object.entries(posted.statuses)
    .filter(([s]) => !s.startsWith("2"))
    .reduce((n, [, c]) => n + c, 0);
  return {
    events,
    customers,
    timedOut,
    postSeconds: (postedAt - t0) / 1000,
    postP50Ms: percentile(posted.latencies, 50),
    postP99Ms: percentile(posted.latencies, 99),
    postErrors: posted.errors + postNon2xx,
    secondsToLastEvent: seconds,
    deliveredPerSecond: distinct / seconds,
    workerdCpuMsPerEvent: cpuMs / events,
    bloomreachCalls: calls,
    callsPerThousandEvents: distinct > 0 ? (calls / distinct) * 1000 : NaN,
    commands: fake.stats.commands,
    customerCommands: fake.stats.customerCommands,
    eventCommands: fake.stats.eventCommands,
    maxCommandsPerCall: fake.stats.maxCommandsPerCall,
    lost: events - distinct,
    duplicated: fake.duplicates(),
    fakeUnexpected: fake.stats.unexpected,
    deliveryLog: logged,
    deliveryAttemptRows: logSize.n,
    deliveryAttemptMb: logSize.bytes / 1024 / 1024,
    consumer,
  };
}

// ---- (c) enrichment --------------------------------------------------------------------------

/**
 * Connects the relay to the fake Antavo (a loopback base URL is accepted because ENVIRONMENT is
 * local) and maps birth_date, which neither the events nor Antavo's answers carry: every event asks
 * for enrichment, and the enrichment TTL (default 3,600 s, far longer than the phase) must hold it to
 * one GET /customers/{id} per customer.
 */
async function measureEnrichment(runtime, fake, antavo, basic, adminToken) {
  const { events, customers, perRequest, concurrency, timeoutSeconds, settleSeconds } = PLAN.enrich;
  const relayUrl = runtime.urls.relay;
  await putConfig(relayUrl, adminToken, "/api/antavo", { baseUrl: antavo.url, ...FAKE_ANTAVO });
  await putConfig(relayUrl, adminToken, "/api/mapping", {
    hardId: { loyaltyField: "email", remoteId: "registered" },
    fields: [...BENCH_FIELDS, { loyaltyField: "birth_date", remoteField: "birthday", type: "date" }],
  });
  const db = await runtime.mf.getD1Database("DB", "relay");
  const base = Math.floor(Date.now() / 1000) - events - 60;
  const requests = Math.ceil(events / perRequest);
  const enrichCustomer = (n) => ({
    id: `enrich-cust-${n}`,
    email: `enrich-cust-${n}@bench.example`,
    first_name: `First${n}`,
    tiers: [{ name: "Silver" }],
  });
  const body = (r) =>
    JSON.stringify({
      events: Array.from({ length: Math.min(perRequest, events - r * perRequest) }, (_, k) => {
        const i = r * perRequest + k;
        return {
          id: `enrich-${i}`,
          action: BENCH_ACTION,
          customer: enrichCustomer(i % customers),
          data: { bench_seq: ENRICH_SEQ + i },
          created_at: base + i,
        };
      }),
    });
  const seen = () => [...fake.stats.seqCounts.keys()].filter((k) => k >= ENRICH_SEQ && k < PHASE_SEQ.floor).length;

  log(
    `enrich: ${events} events over ${customers} customers lacking birth_date at Antavo, ${perRequest} per request, fake Antavo ${PLAN.antavoLatencyMs} ms a call`,
  );
  const callsBefore = antavo.stats.customerCalls;
  const t0 = Date.now();
  const posted = await runLoad({
    url: `${relayUrl}/webhooks/antavo`,
    total: requests,
    concurrency,
    body,
    headers: { authorization: basic },
  });
  const deadline = t0 + timeoutSeconds * 1000;
  let logged = {};
  while (Date.now() < deadline) {
    logged = await deliveryCounts(db, "enrich-%");
    if (seen() >= events && (logged.delivered ?? 0) + (logged.dead ?? 0) >= events) break;
    await sleep(250);
  }
  const timedOut = seen() < events;
  const seconds = (Date.now() - t0) / 1000;
  await sleep(settleSeconds * 1000);
  logged = await deliveryCounts(db, "enrich-%");
  const calls = antavo.stats.customerCalls - callsBefore;
  const postNon2xx = Object.entries(posted.statuses)
    .filter(([s]) => !s.startsWith("2"))
    .reduce((n, [, c]) => n + c, 0);
  return {
    events,
    customers,
    timedOut,
    postErrors: posted.errors + postNon2xx,
    secondsToDelivered: seconds,
    antavoCalls: calls,
    customersLookedUp: antavo.stats.callsByCustomer.size,
    maxCallsPerCustomer: antavo.maxCallsPerCustomer(),
    callsPerThousandEvents: (calls / events) * 1000,
    /** The target: one call per customer within the TTL, per 1,000 events. */
    targetPerThousandEvents: (customers / events) * 1000,
    antavoBadSignatures: antavo.stats.badSignatures,
    antavoUnexpected: antavo.stats.unexpected,
    lost: events - seen(),
    deliveryLog: logged,
  };
}

// ---- (h) inbound: Bloomreach -> Antavo ----------------------------------------------------------

/**
 * The other direction: customers imported into the mirror, one rule (bench_signup -> point_add with
 * the sequence number in its data), then Bloomreach webhooks of 100 events each. Timed from the first
 * POST to the last new event at the fake Antavo; Antavo calls counted there (one per bulk of <= 50).
 */
async function measureInbound(runtime, antavo, adminToken, bloomreachToken) {
  const { events, customers, perRequest, concurrency, timeoutSeconds, settleSeconds } = PLAN.inbound;
  const relayUrl = runtime.urls.relay;
  await putConfig(relayUrl, adminToken, "/api/antavo", { baseUrl: antavo.url, ...FAKE_ANTAVO });
  await putConfig(relayUrl, adminToken, "/api/inbound", {
    rules: [
      {
        eventType: "bench_signup",
        antavoAction: "point_add",
        data: { points: 50, bench_seq: "{{properties.bench_seq}}", at: "{{timestamp}}" },
      },
    ],
  });
  const email = (n) => `inbound-cust-${n}@bench.example`;
  const ndjson = Array.from({ length: customers }, (_, n) =>
    JSON.stringify({ id: `inbound-cust-${n}`, email: email(n) }),
  );
  const imported = await fetch(`${relayUrl}/api/customers/import`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/x-ndjson" },
    body: `${ndjson.join("\n")}\n`,
  });
  if (!imported.ok) throw new Error(`the inbound customers could not be imported: ${imported.status}`);
  const db = await runtime.mf.getD1Database("DB", "relay");
  const base = Math.floor(Date.now() / 1000) - events - 60;
  const requests = Math.ceil(events / perRequest);
  const body = (r) =>
    JSON.stringify({
      events: Array.from({ length: Math.min(perRequest, events - r * perRequest) }, (_, k) => {
        const i = r * perRequest + k;
        return {
          id: `inbound-${i}`,
          event_type: "bench_signup",
          customer_ids: { registered: email(i % customers) },
          properties: { bench_seq: PHASE_SEQ.inbound + i },
          timestamp: base + i,
        };
      }),
    });
  const stats = antavo.stats;
  const mine = () => [...stats.eventSeqCounts.entries()].filter(([k]) => k >= PHASE_SEQ.inbound);
  log(
    `inbound: ${events} Bloomreach events over ${customers} mirrored customers, ${perRequest} per request, fake Antavo ${PLAN.antavoLatencyMs} ms a call`,
  );
  const callsBefore = stats.eventCalls;
  const t0 = Date.now();
  const posted = await runLoad({
    url: `${relayUrl}/webhooks/bloomreach`,
    total: requests,
    concurrency,
    body,
    headers: { authorization: `Bearer ${bloomreachToken}` },
  });
  const deadline = t0 + timeoutSeconds * 1000;
  while (Date.now() < deadline && mine().length < events) await sleep(100);
  const timedOut = mine().length < events;
  const seconds = ((stats.lastEventAt ?? Date.now()) - t0) / 1000;
  await sleep(settleSeconds * 1000);
  const logged = await deliveryCounts(db, "br-inbound-%");
  const seen = mine();
  const calls = stats.eventCalls - callsBefore;
  const postNon2xx = Object.entries(posted.statuses)
    .filter(([s]) => !s.startsWith("2"))
    .reduce((n, [, c]) => n + c, 0);
  return {
    events,
    customers,
    timedOut,
    postErrors: posted.errors + postNon2xx,
    secondsToLastEvent: seconds,
    deliveredPerSecond: seen.length / seconds,
    antavoCalls: calls,
    bulkCalls: stats.bulkCalls,
    callsPerThousandEvents: seen.length > 0 ? (calls / seen.length) * 1000 : Number.NaN,
    lost: events - seen.length,
    duplicated: seen.reduce((n, [, c]) => n + c - 1, 0),
    deliveryLog: logged,
    antavoBadSignatures: stats.badSignatures,
  };
}

// ---- fixed bursts (floor, slow, workflows) --------------------------------------------------

/**
 * One fixed burst through the relay (`side: "relay"`) or the floor consumer (`side: "floor"`), timed
 * by its own range of sequence numbers at the fake Bloomreach: from the first POST to the answer of
 * the last new event. The relay's side also waits for its delivery log to settle every event.
 */
async function fixedBurst(runtime, fake, basic, { side, tag, seqBase, plan }) {
  const { events, customers, perRequest, concurrency, timeoutSeconds } = plan;
  const relay = side === "relay";
  const db = relay ? await runtime.mf.getD1Database("DB", "relay") : undefined;
  const url = relay ? `${runtime.urls.relay}/webhooks/antavo` : `${runtime.urls.baseline}/floor`;
  const queue = relay ? runtime.config.events.queue : FLOOR_QUEUE;
  const base = Math.floor(Date.now() / 1000) - events - 60;
  const requests = Math.ceil(events / perRequest);
  const person = (n) => ({
    id: `${tag}-cust-${n}`,
    email: `${tag}-cust-${n}@bench.example`,
    first_name: `First${n}`,
    tiers: [{ name: n % 3 === 0 ? "Gold" : "Silver" }],
  });
  const body = (r) =>
    JSON.stringify({
      events: Array.from({ length: Math.min(perRequest, events - r * perRequest) }, (_, k) => {
        const i = r * perRequest + k;
        return {
          id: `${tag}-${i}`,
          action: BENCH_ACTION,
          customer: person(i % customers),
          data: { bench_seq: seqBase + i },
          created_at: base + i,
        };
      }),
    });
  const range = () => fake.seqRange(seqBase, seqBase + events);
  const before = {
    calls: fake.stats.batchCalls,
    customer: fake.stats.customerCommands,
    event: fake.stats.eventCommands,
  };
  fake.resetInFlight();
  const t0 = Date.now();
  const cpuBefore = workerdCpuMs();
  const posted = await runLoad({ url, total: requests, concurrency, body, headers: { authorization: basic } });
  const deadline = t0 + timeoutSeconds * 1000;
  let logged = {};
  while (Date.now() < deadline) {
    const r = range();
    if (r.answered >= events) {
      if (!relay) break;
      logged = await deliveryCounts(db, `${tag}-%`);
      if ((logged.delivered ?? 0) + (logged.dead ?? 0) >= events) break;
    }
    await sleep(200);
  }
  const seen = range();
  const timedOut = seen.answered < events;
  const end = Date.now();
  const cpuMs = workerdCpuMs() - cpuBefore;
  // A short settle: a late duplicate (a retried batch) would show up here.
  await sleep(1000);
  const final = range();
  if (relay) logged = await deliveryCounts(db, `${tag}-%`);
  const seconds = ((seen.lastAt ?? end) - t0) / 1000;
  const batches = runtime.log.batches.filter((b) => b.at >= t0 && b.at <= end + 1000 && b.queue === queue);
  const counted = (runtime.counted ?? []).filter((c) => c.queue === queue && c.at >= t0 && c.at <= end + 1000);
  const batchMs = batches.map((b) => b.ms).filter(Number.isFinite);
  const busyMs = batchMs.reduce((a, b) => a + b, 0);
  const postNon2xx = Object.entries(posted.statuses)
    .filter(([s]) => !s.startsWith("2"))
    .reduce((n, [, c]) => n + c, 0);
  return {
    side,
    events,
    customers,
    timedOut,
    postErrors: posted.errors + postNon2xx,
    postSeconds: posted.seconds,
    secondsToLastEvent: seconds,
    deliveredPerSecond: seen.distinct / seconds,
    workerdCpuMs: cpuMs,
    maxCallsInFlight: fake.stats.maxInFlight,
    maxConcurrentBatches: maxOverlap(batches),
    bloomreachCalls: fake.stats.batchCalls - before.calls,
    customerCommands: fake.stats.customerCommands - before.customer,
    eventCommands: fake.stats.eventCommands - before.event,
    lost: events - final.distinct,
    duplicated: final.duplicated,
    deliveryLog: relay ? logged : undefined,
    consumer: {
      batches: batches.length,
      meanSize: batches.reduce((n, b) => n + b.size, 0) / Math.max(1, batches.length),
      retriedMessages: batches.reduce((n, b) => n + (b.size - b.acked), 0),
      p50Ms: percentile(batchMs, 50),
      p99Ms: percentile(batchMs, 99),
      busySeconds: busyMs / 1000,
      busyMsPerEvent: busyMs / events,
    },
    perBatch: batchCounts(counted),
    stages: batchStages(stagedIn(runtime, queue, t0, end + 1000)),
    batchMs,
    counted,
    staged: stagedIn(runtime, queue, t0, end + 1000),
  };
}

/** The relay's "delivery batch" lines of one queue within a time window. */
const stagedIn = (runtime, queue, from, to) =>
  (runtime.staged ?? []).filter((l) => l.queue === queue && l.at >= from && l.at <= to);

/** Mean wall time of each delivery stage per batch, from the relay's "delivery batch" lines. */
function batchStages(lines) {
  if (lines.length === 0) return undefined;
  const mean = (pick) => lines.reduce((n, l) => n + pick(l), 0) / lines.length;
  const names = [...new Set(lines.flatMap((l) => Object.keys(l.stageMs ?? {})))];
  return {
    batches: lines.length,
    meanEvents: mean((l) => l.events),
    stageMs: Object.fromEntries(names.map((name) => [name, mean((l) => l.stageMs?.[name] ?? 0)])),
  };
}

const stagesText = (x) =>
  x
    ? `${Object.entries(x.stageMs)
        .map(([name, ms]) => `${name} ${ms.toFixed(0)}`)
        .join(", ")} ms (mean of ${x.batches} batches of ${x.meanEvents.toFixed(0)} events)`
    : "no delivery batch lines";

/** The most consumer invocations running at once, from the broker's lines (logged at the end, with their ms). */
function maxOverlap(batches) {
  const edges = batches
    .filter((b) => Number.isFinite(b.ms))
    .flatMap((b) => [
      [b.at - b.ms, 1],
      [b.at, -1],
    ])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0;
  let most = 0;
  for (const [, step] of edges) {
    running += step;
    most = Math.max(most, running);
  }
  return most;
}

/** Several rounds of one side as one result: sums, and rates over the summed time. */
function combineRounds(results) {
  const sum = (pick) => results.reduce((n, x) => n + pick(x), 0);
  const events = sum((x) => x.events);
  const seconds = sum((x) => x.secondsToLastEvent);
  const lost = sum((x) => x.lost);
  const batchMs = results.flatMap((x) => x.batchMs);
  const counted = results.flatMap((x) => x.counted);
  const busyMs = batchMs.reduce((a, b) => a + b, 0);
  const batches = sum((x) => x.consumer.batches);
  return {
    side: results[0].side,
    rounds: results.map((x) => x.deliveredPerSecond),
    events,
    customers: sum((x) => x.customers),
    timedOut: results.some((x) => x.timedOut),
    postErrors: sum((x) => x.postErrors),
    postSeconds: sum((x) => x.postSeconds),
    secondsToLastEvent: seconds,
    deliveredPerSecond: (events - lost) / seconds,
    workerdCpuMs: sum((x) => x.workerdCpuMs),
    bloomreachCalls: sum((x) => x.bloomreachCalls),
    customerCommands: sum((x) => x.customerCommands),
    eventCommands: sum((x) => x.eventCommands),
    lost,
    duplicated: sum((x) => x.duplicated),
    deliveryLog: results[0].deliveryLog && results.map((x) => x.deliveryLog),
    consumer: {
      batches,
      meanSize: sum((x) => x.consumer.meanSize * x.consumer.batches) / Math.max(1, batches),
      retriedMessages: sum((x) => x.consumer.retriedMessages),
      p50Ms: percentile(batchMs, 50),
      p99Ms: percentile(batchMs, 99),
      busySeconds: busyMs / 1000,
      busyMsPerEvent: busyMs / events,
    },
    perBatch: batchCounts(counted),
    stages: batchStages(results.flatMap((x) => x.staged)),
    batchMs,
    counted,
    staged: results.flatMap((x) => x.staged),
  };
}

/**
 * Means per consumer batch of what counting.mjs counted (undefined with BENCH_COUNT=0): DO round
 * trips per namespace, Durable Object storage API calls, D1 round trips and statements.
 */
function batchCounts(lines) {
  if (lines.length === 0) return undefined;
  const mean = (pick) => lines.reduce((n, c) => n + pick(c), 0) / lines.length;
  const namespaces = [...new Set(lines.flatMap((c) => Object.keys(c.doCalls)))];
  return {
    batches: lines.length,
    meanSize: mean((c) => c.size),
    doCalls: Object.fromEntries(namespaces.map((k) => [k, mean((c) => c.doCalls[k] ?? 0)])),
    storageOps: mean((c) => c.storageOps),
    d1Calls: mean((c) => c.d1Calls),
    d1Statements: mean((c) => c.d1Statements),
  };
}

const burstLine = (label, x) =>
  log(
    `  ${label}: ${x.deliveredPerSecond.toFixed(0)} events/s, ${x.secondsToLastEvent.toFixed(1)} s, ${x.bloomreachCalls} calls, consumer busy ${x.consumer.busySeconds.toFixed(1)} s, workerd CPU ${(x.workerdCpuMs / x.events).toFixed(2)} ms/event${x.timedOut ? " (TIMED OUT)" : ""}`,
  );

// ---- (e) floor -------------------------------------------------------------------------------

/**
 * The same fixed burst (fresh customers each time) through the floor consumer and through the
 * relay, in rounds of alternating order; each side's rounds are summed.
 */
async function measureFloor(runtime, fake, basic) {
  const plan = PLAN.floor;
  log(
    `floor: ${plan.events} events over ${plan.customers} customers, ${plan.rounds} rounds through the floor consumer and the relay`,
  );
  const sides = { floor: [], relay: [] };
  for (let round = 0; round < plan.rounds; round++) {
    const order = round % 2 === 0 ? ["floor", "relay"] : ["relay", "floor"];
    for (const side of order) {
      const result = await fixedBurst(runtime, fake, basic, {
        side,
        tag: `floor${round}-${side}`,
        seqBase: (side === "floor" ? PHASE_SEQ.floor : PHASE_SEQ.floorRelay) + round * 100_000,
        plan,
      });
      burstLine(`round ${round + 1}, ${side}`, result);
      sides[side].push(result);
    }
  }
  const floor = combineRounds(sides.floor);
  const relay = combineRounds(sides.relay);
  return { floor, relay, relayVsFloor: relay.deliveredPerSecond / floor.deliveredPerSecond };
}

// ---- (f) slow Bloomreach ---------------------------------------------------------------------

/** The same fixed burst through the relay with the fake at 50 ms, then at 500 ms a call. */
async function measureSlow(runtime, fake, basic) {
  const plan = PLAN.slow;
  const normal = fake.latencyMs;
  log(
    `slow: ${plan.events} events over ${plan.customers} customers, fake Bloomreach ${normal} ms, then ${plan.latencyMs} ms`,
  );
  const fast = await fixedBurst(runtime, fake, basic, {
    side: "relay",
    tag: "slow-fast",
    seqBase: PHASE_SEQ.slowFast,
    plan,
  });
  burstLine(`${normal} ms`, fast);
  fake.setLatency(plan.latencyMs);
  let slow;
  try {
    slow = await fixedBurst(runtime, fake, basic, {
      side: "relay",
      tag: "slow-slow",
      seqBase: PHASE_SEQ.slowSlow,
      plan,
    });
  } finally {
    fake.setLatency(normal);
  }
  burstLine(`${plan.latencyMs} ms`, slow);
  return {
    fastLatencyMs: normal,
    slowLatencyMs: plan.latencyMs,
    fast,
    slow,
    slowVsFast: slow.deliveredPerSecond / fast.deliveredPerSecond,
  };
}

// ---- (g) workflows ---------------------------------------------------------------------------

/**
 * Event-triggered workflows that do not match the bench's events: most on other actions, every
 * tenth on the bench action with an event filter that never passes (bench_seq is never negative).
 */
function benchWorkflow(n) {
  const onBench = n % PLAN.workflows.onBenchActionEvery === 0;
  return {
    name: `bench workflow ${n}`,
    trigger: { type: "event", action: onBench ? BENCH_ACTION : `bench_other_${n}` },
    filters: onBench
      ? [{ type: "event_attribute", attribute: "bench_seq", operator: "less_than", value: -1 }]
      : [{ type: "event_attribute", attribute: "bench_seq", operator: "greater_than", value: 0 }],
    actions: [{ type: "sync_event", event: `bench_wf_${n}`, properties: { seq: "{{event.bench_seq}}", n } }],
  };
}

async function adminCall(relayUrl, adminToken, method, path, body) {
  const response = await fetch(`${relayUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text);
}

/** The same fixed burst (fresh customers each) with 0, then 20, then 100 active workflows. */
async function measureWorkflows(runtime, fake, basic, adminToken) {
  const plan = PLAN.workflows;
  const relayUrl = runtime.urls.relay;
  log(
    `workflows: ${plan.events} events over ${plan.customers} customers with ${plan.counts.join(", ")} active workflows`,
  );
  const created = [];
  const runs = [];
  try {
    for (const [index, count] of plan.counts.entries()) {
      while (created.length < count) {
        const n = created.length;
        const workflow = await adminCall(relayUrl, adminToken, "POST", "/api/workflows", benchWorkflow(n));
        await adminCall(relayUrl, adminToken, "POST", `/api/workflows/${workflow.id}/activate`);
        created.push(workflow.id);
      }
      const active = (await adminCall(relayUrl, adminToken, "GET", "/api/workflows")).items.filter(
        (w) => w.status === "active",
      ).length;
      const result = await fixedBurst(runtime, fake, basic, {
        side: "relay",
        tag: `wf${count}`,
        seqBase: PHASE_SEQ.workflows + index * 1e6,
        plan,
      });
      burstLine(`${active} active`, result);
      runs.push({ workflows: count, active, ...result });
    }
  } finally {
    // Later phases (enrich) run without them.
    for (const id of created)
      await adminCall(relayUrl, adminToken, "POST", `/api/workflows/${id}/deactivate`).catch(() => undefined);
  }
  // The first count again, after the others: drift over the phase (a warmer isolate, a longer
  // delivery log) shows as a difference between the two, and the ratio is taken to their mean.
  const again = await fixedBurst(runtime, fake, basic, {
    side: "relay",
    tag: `wf${plan.counts[0]}-again`,
    seqBase: PHASE_SEQ.workflows + plan.counts.length * 1e6,
    plan,
  });
  const activeAgain = (await adminCall(relayUrl, adminToken, "GET", "/api/workflows")).items.filter(
    (w) => w.status === "active",
  ).length;
  burstLine(`${activeAgain} active (again)`, again);
  runs.push({ workflows: plan.counts[0], active: activeAgain, again: true, ...again });
  const first = runs[0];
  const last = runs[runs.length - 2];
  const mean = (pick) => (pick(first) + pick(again)) / 2;
  return {
    runs,
    lastVsFirstMsPerEvent: last.consumer.busyMsPerEvent / mean((x) => x.consumer.busyMsPerEvent),
    lastVsFirstEventsPerSecond: last.deliveredPerSecond / mean((x) => x.deliveredPerSecond),
  };
}

// ---- (h) backfill ----------------------------------------------------------------------------

/** Mirrors `n` customers straight into D1 (20 rows a statement, 100 statements a batch). */
async function seedMirror(db, n) {
  const statements = [];
  const at = Math.floor(Date.now() / 1000) - 3600;
  for (let start = 0; start < n; start += 20) {
    const rows = [];
    const values = [];
    for (let i = start; i < Math.min(n, start + 20); i++) {
      const snapshot = {
        id: `bf-${i}`,
        email: `bf-${i}${BACKFILL_DOMAIN}`,
        first_name: `First${i}`,
        tiers: [{ name: i % 3 === 0 ? "Gold" : "Silver" }],
      };
      rows.push("(?, ?, null, ?, ?)");
      values.push(snapshot.id, snapshot.email, JSON.stringify(snapshot), at);
    }
    statements.push(
      db
        .prepare(
          `insert or replace into customers (id, email, birth_month_day, snapshot, updated_at) values ${rows.join(", ")}`,
        )
        .bind(...values),
    );
  }
  for (let i = 0; i < statements.length; i += 100) await db.batch(statements.slice(i, i + 100));
}

/**
 * An open-loop stream of live webhooks, one event a request at `rate` a second, until `stop()`
 * says so; each event's latency is from its post to the fake's answer to the call that carried it.
 */
function liveStream(runtime, fake, basic, { seqBase, rate, stop }) {
  const sentAt = new Map();
  let n = 0;
  const errors = [];
  const done = (async () => {
    const t0 = Date.now();
    while (!stop()) {
      const seq = seqBase + n;
      n++;
      sentAt.set(seq, Date.now());
      fetch(`${runtime.urls.relay}/webhooks/antavo`, {
        method: "POST",
        headers: { authorization: basic, "content-type": "application/json" },
        body: JSON.stringify({
          id: `live-${seq}`,
          action: BENCH_ACTION,
          customer: { ...customer(seq), email: `live-${seq}@bench.example` },
          data: { bench_seq: seq },
        }),
      })
        .then((r) => (r.ok ? r.arrayBuffer() : errors.push(r.status)))
        .catch((e) => errors.push(e.message));
      const next = t0 + (n * 1000) / rate;
      await sleep(Math.max(0, next - Date.now()));
    }
  })();
  return {
    done,
    /** Waits for every event's answer (or the timeout); answers the latencies in ms. */
    async latencies(timeoutMs = 60_000) {
      await done;
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline && fake.seqRange(seqBase, seqBase + n).answered < n) await sleep(200);
      const out = [];
      for (const [seq, at] of sentAt) {
        const answered = fake.stats.seqAnsweredAt.get(seq);
        if (answered !== undefined) out.push(answered - at);
      }
      return { sent: n, answered: out.length, errors: errors.length, latencies: out };
    },
  };
}

async function measureBackfill(runtime, fake, basic, adminToken) {
  const plan = PLAN.backfill;
  const db = await runtime.mf.getD1Database("DB", "relay");
  log(`backfill: mirroring ${plan.customers} customers`);
  await seedMirror(db, plan.customers);

  log(`backfill: live stream alone, ${plan.liveRate}/s for ${plan.baselineSeconds} s`);
  const aloneUntil = Date.now() + plan.baselineSeconds * 1000;
  const alone = await liveStream(runtime, fake, basic, {
    seqBase: PHASE_SEQ.liveAlone,
    rate: plan.liveRate,
    stop: () => Date.now() >= aloneUntil,
  }).latencies();

  const before = { calls: fake.stats.backfillCalls, commands: fake.stats.backfillCommands };
  const t0 = Date.now();
  const job = await adminCall(runtime.urls.relay, adminToken, "POST", "/api/backfill", {});
  log(`backfill: job ${job.id} over ${job.total} customers, with the live stream running`);
  let state = { status: "running" };
  let finished = false;
  const during = liveStream(runtime, fake, basic, {
    seqBase: PHASE_SEQ.liveDuringBackfill,
    rate: plan.liveRate,
    stop: () => finished,
  });
  const deadline = t0 + plan.timeoutSeconds * 1000;
  let lastLog = 0;
  while (Date.now() < deadline) {
    state = await adminCall(runtime.urls.relay, adminToken, "GET", `/api/backfill/${job.id}`);
    if (state.status !== "running") break;
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      const handled = state.sent + state.skipped + state.failed;
      log(`  ${handled} / ${state.total} customers after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
    await sleep(500);
  }
  const seconds = ((state.finishedAt ? state.finishedAt * 1000 : Date.now()) - t0) / 1000;
  const timedOut = state.status === "running";
  if (timedOut)
    await adminCall(runtime.urls.relay, adminToken, "DELETE", `/api/backfill/${job.id}`).catch(() => undefined);
  finished = true;
  const live = await during.latencies();
  const handled = state.sent + state.skipped + state.failed;
  const calls = fake.stats.backfillCalls - before.calls;
  const p99Alone = percentile(alone.latencies, 99);
  const p99During = percentile(live.latencies, 99);
  const resent = [...fake.stats.backfillCustomers.values()].filter((n) => n > 1).length;
  return {
    customers: plan.customers,
    total: job.total,
    status: state.status,
    timedOut,
    seconds,
    handled,
    sent: state.sent,
    skipped: state.skipped,
    failed: state.failed,
    customersPerSecond: handled / seconds,
    bloomreachCalls: calls,
    commands: fake.stats.backfillCommands - before.commands,
    callsPerThousandCustomers: handled > 0 ? (calls / handled) * 1000 : NaN,
    customersSentTwice: resent,
    live: {
      rate: plan.liveRate,
      alone: { sent: alone.sent, answered: alone.answered, p50Ms: percentile(alone.latencies, 50), p99Ms: p99Alone },
      during: { sent: live.sent, answered: live.answered, p50Ms: percentile(live.latencies, 50), p99Ms: p99During },
      p99Ratio: p99During / p99Alone,
    },
  };
}

async function deliveryCounts(db, idLike) {
  const { results } = await (idLike
    ? db.prepare("select status, count(*) as n from deliveries where id like ? group by status").bind(idLike)
    : db.prepare("select status, count(*) as n from deliveries group by status")
  ).all();
  return Object.fromEntries(results.map((r) => [r.status, r.n]));
}

// ---- report ----------------------------------------------------------------------------------

/** One line of batchCounts' means. */
function perBatchText(p) {
  const f = (n, d) => (Number.isFinite(n) ? n.toFixed(d) : "-");
  return p
    ? `${Object.entries(p.doCalls)
        .map(([k, n]) => `${k} ${f(n, 1)}`)
        .join(
          " + ",
        )} DO calls, ${f(p.storageOps, 1)} storage ops, D1 ${f(p.d1Calls, 1)} calls / ${f(p.d1Statements, 1)} stmts (mean size ${f(p.meanSize, 0)})`
    : "not counted (BENCH_COUNT=0)";
}

function report(r) {
  const f = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : "-");
  const row = (cells, widths) =>
    cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join("  ");
  const mark = (ok) => (ok ? "PASS" : "MISS");
  const line = "=".repeat(92);
  const kv = (k, v) => console.log(row([k, v], [40, 14]));
  const targets = [];

  console.log(
    `\n${line}\n relay bench ${r.quick ? "(QUICK: a tenth of the load) " : ""}— node ${r.runtime.node}, miniflare ${r.runtime.miniflare}, ${r.seconds.toFixed(0)} s\n${line}`,
  );
  if (r.relayRoot !== ROOT) console.log(` relay built from ${r.relayRoot}`);

  if (r.ingest) {
    const w = [40, 9, 9, 9, 9, 8, 10];
    console.log(
      `\n(a) ingest, one event per request, concurrency ${r.plan.ingest.concurrency}, ${r.plan.ingest.requests} requests per route after ${r.plan.ingest.warmup} warm-up`,
    );
    console.log(row(["route", "req/s", "p50 ms", "p99 ms", "cpu ms", "errors", "vs send"], w));
    for (const route of Object.values(r.ingest.routes)) {
      console.log(
        row(
          [
            route.label,
            f(route.rps, 0),
            f(route.p50Ms, 2),
            f(route.p99Ms, 2),
            f(route.workerdCpuMsPerRequest, 3),
            route.errors + route.non2xx,
            `${f((route.rps / r.ingest.routes.send.rps) * 100, 0)} %`,
          ],
          w,
        ),
      );
    }
    const vp = r.ingest.relayVsParse;
    const vs = r.ingest.relayVsSend;
    console.log(
      `relay / parse baseline: throughput ${f(vp.rps * 100, 0)} %, p50 x${f(vp.p50, 2)}, p99 x${f(vp.p99, 2)}`,
    );
    console.log(
      `relay / send baseline:  throughput ${f(vs.rps * 100, 0)} %, p50 x${f(vs.p50, 2)}, p99 x${f(vs.p99, 2)}`,
    );
    targets.push(["async ingest >= 90 % of send-only", `${f(vs.rps * 100, 0)} %`, vs.rps >= TARGETS.ingestVsSend]);
    targets.push(["async ingest p99 <= x1.5 send-only's", `x${f(vs.p99, 2)}`, vs.p99 <= TARGETS.ingestP99VsSend]);
  }

  const b = r.burst;
  if (b) {
    console.log(
      `\n(b) end-to-end burst: ${b.events} events, ${b.customers} customers, fake Bloomreach ${r.plan.bloomreachLatencyMs} ms a batch${b.timedOut ? "  ** TIMED OUT **" : ""}`,
    );
    kv("posted in (s), 100 events/request", f(b.postSeconds, 2));
    kv("webhook p50 / p99 (ms) during burst", `${f(b.postP50Ms, 0)} / ${f(b.postP99Ms, 0)}`);
    kv("time to last event at the fake (s)", f(b.secondsToLastEvent, 1));
    kv("delivered events/s", f(b.deliveredPerSecond, 0));
    kv("workerd CPU per event, ingest included (ms)", f(b.workerdCpuMsPerEvent, 2));
    kv("Bloomreach calls", b.bloomreachCalls);
    kv("calls per 1,000 events", f(b.callsPerThousandEvents, 1));
    kv("commands (customer + event)", `${b.customerCommands} + ${b.eventCommands}`);
    kv("max commands per call", b.maxCommandsPerCall);
    kv("lost events", b.lost);
    kv("duplicated events", b.duplicated);
    kv("delivery log by status", JSON.stringify(b.deliveryLog));
    kv("attempt rows, request+response MB", `${b.deliveryAttemptRows}, ${f(b.deliveryAttemptMb, 1)}`);
    const c = b.consumer;
    kv("consumer batches (mean size)", `${c.batches} (${f(c.meanSize, 0)})`);
    kv("consumer batch p50 / p99 (ms)", `${f(c.p50Ms, 0)} / ${f(c.p99Ms, 0)}`);
    kv("consumer busy (s), retried, to DLQ", `${f(c.busySeconds, 1)}, ${c.retriedMessages}, ${c.deadLetterBatches}`);
    console.log(`per consumer batch: ${perBatchText(c.perBatch)}`);
    console.log(`relay's stages per batch: ${stagesText(c.stages)}`);
    targets.push([
      "<= 25 Bloomreach calls per 1,000 events",
      f(b.callsPerThousandEvents, 1),
      b.callsPerThousandEvents <= TARGETS.callsPerThousand,
    ]);
    targets.push([
      "burst >= 411 delivered events/s (3 x 137)",
      f(b.deliveredPerSecond, 0),
      b.deliveredPerSecond >= TARGETS.burstEventsPerSecond,
    ]);
    targets.push(["zero lost events", b.lost, b.lost === 0]);
    targets.push(["zero duplicated events", b.duplicated, b.duplicated === 0]);
    if (b.fakeUnexpected.length) console.log(`fake Bloomreach saw unexpected requests: ${b.fakeUnexpected.join("; ")}`);
  }

  const e = r.enrich;
  if (e) {
    console.log(
      `\n(c) enrichment: ${e.events} events, ${e.customers} customers lacking a mapped field at Antavo, fake Antavo ${r.plan.antavoLatencyMs} ms a call${e.timedOut ? "  ** TIMED OUT **" : ""}`,
    );
    kv("time to all delivered (s)", f(e.secondsToDelivered, 1));
    kv("Antavo calls (GET /customers/{id})", e.antavoCalls);
    kv("customers looked up, max calls each", `${e.customersLookedUp}, ${e.maxCallsPerCustomer}`);
    kv("Antavo calls per 1,000 events", f(e.callsPerThousandEvents, 1));
    kv("lost events", e.lost);
    kv("delivery log by status", JSON.stringify(e.deliveryLog));
    targets.push([
      `Antavo calls per 1,000 events <= ${f(e.targetPerThousandEvents, 0)}`,
      f(e.callsPerThousandEvents, 1),
      e.callsPerThousandEvents <= e.targetPerThousandEvents && e.maxCallsPerCustomer <= 1,
    ]);
    targets.push(["zero lost events (enrichment)", e.lost, e.lost === 0]);
    if (e.antavoUnexpected.length) console.log(`fake Antavo saw unexpected requests: ${e.antavoUnexpected.join("; ")}`);
  }

  const ib = r.inbound;
  if (ib) {
    console.log(
      `\n(h) inbound (Bloomreach -> Antavo): ${ib.events} events, ${ib.customers} customers, fake Antavo ${r.plan.antavoLatencyMs} ms a call${ib.timedOut ? "  ** TIMED OUT **" : ""}`,
    );
    kv("events/s to the fake Antavo", f(ib.deliveredPerSecond, 0));
    if (r.burst) kv("  ratio to the burst's events/s", f(ib.deliveredPerSecond / r.burst.deliveredPerSecond, 2));
    kv("time to last event (s)", f(ib.secondsToLastEvent, 1));
    kv("Antavo event calls (of them bulk)", `${ib.antavoCalls} (${ib.bulkCalls})`);
    kv("Antavo calls per 1,000 events", f(ib.callsPerThousandEvents, 1));
    kv("POST errors, bad signatures", `${ib.postErrors}, ${ib.antavoBadSignatures}`);
    kv("lost, duplicated events", `${ib.lost}, ${ib.duplicated}`);
    kv("delivery log by status", JSON.stringify(ib.deliveryLog));
    targets.push([
      `<= ${TARGETS.antavoCallsPerThousand} Antavo calls per 1,000 events (bulk)`,
      f(ib.callsPerThousandEvents, 1),
      ib.callsPerThousandEvents <= TARGETS.antavoCallsPerThousand,
    ]);
    targets.push(["zero lost events (inbound)", ib.lost, ib.lost === 0]);
    targets.push(["zero duplicated events (inbound)", ib.duplicated, ib.duplicated === 0]);
  }

  const fixedRows = (rows) => {
    const w = [26, 9, 8, 7, 9, 12, 9, 6, 5];
    console.log(row(["", "events/s", "to last s", "calls", "cmds c+e", "batch p50/99", "ms/event", "lost", "dup"], w));
    for (const [label, x] of rows)
      console.log(
        row(
          [
            `${label}${x.timedOut ? " TIMED OUT" : ""}`,
            f(x.deliveredPerSecond, 0),
            f(x.secondsToLastEvent, 1),
            x.bloomreachCalls,
            `${x.customerCommands}+${x.eventCommands}`,
            `${f(x.consumer.p50Ms, 0)}/${f(x.consumer.p99Ms, 0)}`,
            f(x.consumer.busyMsPerEvent, 2),
            x.lost,
            x.duplicated,
          ],
          w,
        ),
      );
    for (const [label, x] of rows) console.log(`  per batch, ${label}: ${perBatchText(x.perBatch)}`);
    for (const [label, x] of rows)
      if (x.stages) console.log(`  relay's stages per batch, ${label}: ${stagesText(x.stages)}`);
  };
  const fl = r.floor;
  if (fl) {
    console.log(
      `\n(e) consumer floor: ${fl.floor.rounds.length} rounds of ${r.plan.floor.events} events for ${r.plan.floor.customers} customers each side, fake Bloomreach ${r.plan.bloomreachLatencyMs} ms; floor = one DO round trip + one storage write per customer, then the calls`,
    );
    fixedRows([
      ["floor consumer", fl.floor],
      ["relay", fl.relay],
    ]);
    kv("relay / floor, delivered events/s", `${f(fl.relayVsFloor * 100, 0)} %`);
    kv(
      "workerd CPU per event (ms), floor | relay",
      `${f(fl.floor.workerdCpuMs / fl.floor.events, 2)} | ${f(fl.relay.workerdCpuMs / fl.relay.events, 2)}`,
    );
    kv(
      "events/s by round, floor | relay",
      `${fl.floor.rounds.map((x) => f(x, 0)).join(", ")} | ${fl.relay.rounds.map((x) => f(x, 0)).join(", ")}`,
    );
    targets.push([
      "relay >= 70 % of the consumer floor",
      `${f(fl.relayVsFloor * 100, 0)} %`,
      fl.relayVsFloor >= TARGETS.relayVsFloor,
    ]);
    targets.push([
      "zero lost / duplicated (floor phase)",
      fl.relay.lost + fl.relay.duplicated,
      fl.relay.lost + fl.relay.duplicated === 0,
    ]);
  }
  const sl = r.slow;
  if (sl) {
    console.log(
      `\n(f) slow Bloomreach: ${sl.fast.events} events, ${sl.fast.customers} customers through the relay, fake at ${sl.fastLatencyMs} ms then ${sl.slowLatencyMs} ms a call`,
    );
    fixedRows([
      [`relay, ${sl.fastLatencyMs} ms Bloomreach`, sl.fast],
      [`relay, ${sl.slowLatencyMs} ms Bloomreach`, sl.slow],
    ]);
    kv(`events/s at ${sl.slowLatencyMs} ms / at ${sl.fastLatencyMs} ms`, `${f(sl.slowVsFast * 100, 0)} %`);
    kv("most Bloomreach calls in flight, 50 | 500 ms", `${sl.fast.maxCallsInFlight} | ${sl.slow.maxCallsInFlight}`);
    kv(
      "most consumer invocations at once, 50 | 500 ms",
      `${sl.fast.maxConcurrentBatches} | ${sl.slow.maxConcurrentBatches}`,
    );
    // Batch by batch, a call 10x slower cuts throughput near 10x; calls kept in flight across
    // batches hold it. Miniflare's broker dispatches the next batch only when the consumer has
    // returned (one invocation at a time, printed above), so across batches it cannot show here.
  }
  const wf = r.workflows;
  if (wf) {
    const w0 = wf.runs[0];
    console.log(
      `\n(g) workflows: ${w0.events} events, ${w0.customers} customers per run; every ${r.plan.workflows.onBenchActionEvery}th workflow on the bench action with a failing filter, the rest on other actions`,
    );
    fixedRows(wf.runs.map((x) => [`${x.active} active workflows${x.again ? " again" : ""}`, x]));
    const last = wf.runs[wf.runs.length - 2];
    console.log(`the ratios take the mean of both runs with ${w0.workflows}`);
    kv(`consumer ms/event, ${last.workflows} vs ${w0.workflows}`, `x${f(wf.lastVsFirstMsPerEvent, 2)}`);
    kv(`events/s, ${last.workflows} vs ${w0.workflows}`, `${f(wf.lastVsFirstEventsPerSecond * 100, 0)} %`);
    targets.push([
      `consumer cost ${last.workflows} vs ${w0.workflows} workflows <= x1.2`,
      `x${f(wf.lastVsFirstMsPerEvent, 2)}`,
      wf.lastVsFirstMsPerEvent <= TARGETS.workflows100Vs0,
    ]);
  }

  const bf = r.backfill;
  if (bf) {
    console.log(
      `\n(h) backfill: ${bf.total} mirrored customers, fake Bloomreach ${r.plan.bloomreachLatencyMs} ms a call, live stream ${bf.live.rate}/s${bf.timedOut ? "  ** TIMED OUT (cancelled) **" : ""}`,
    );
    kv("job status, seconds", `${bf.status}, ${f(bf.seconds, 1)}`);
    kv("sent / skipped / failed", `${bf.sent} / ${bf.skipped} / ${bf.failed}`);
    kv("customers/s", f(bf.customersPerSecond, 0));
    kv("Bloomreach calls (commands)", `${bf.bloomreachCalls} (${bf.commands})`);
    kv("calls per 1,000 customers", f(bf.callsPerThousandCustomers, 1));
    kv("customers sent more than once", bf.customersSentTwice);
    kv("live p50 / p99 ms, alone", `${f(bf.live.alone.p50Ms, 0)} / ${f(bf.live.alone.p99Ms, 0)}`);
    kv("live p50 / p99 ms, during backfill", `${f(bf.live.during.p50Ms, 0)} / ${f(bf.live.during.p99Ms, 0)}`);
    kv(
      "live answered, alone | during",
      `${bf.live.alone.answered}/${bf.live.alone.sent} | ${bf.live.during.answered}/${bf.live.during.sent}`,
    );
    console.log(
      `backfill: ${f(bf.customersPerSecond, 0)} customers/s, ${f(bf.callsPerThousandCustomers, 1)} calls per 1,000 customers (${mark(bf.callsPerThousandCustomers <= TARGETS.backfillCallsPerThousand)} <= ${TARGETS.backfillCallsPerThousand}), live p99 during / alone x${f(bf.live.p99Ratio, 2)} (${mark(bf.live.p99Ratio <= TARGETS.backfillLiveP99)} <= ${TARGETS.backfillLiveP99})`,
    );
    targets.push([
      `<= ${TARGETS.backfillCallsPerThousand} calls per 1,000 backfilled`,
      f(bf.callsPerThousandCustomers, 1),
      bf.callsPerThousandCustomers <= TARGETS.backfillCallsPerThousand,
    ]);
    targets.push([
      `live p99 during backfill <= x${TARGETS.backfillLiveP99}`,
      `x${f(bf.live.p99Ratio, 2)}`,
      bf.live.p99Ratio <= TARGETS.backfillLiveP99,
    ]);
    targets.push([
      "backfill finished, none sent twice",
      `${bf.status}, ${bf.customersSentTwice}`,
      bf.status === "done" && bf.customersSentTwice === 0,
    ]);
  }

  const m = r.memory;
  console.log(`\n(d) peak memory`);
  kv(
    `workerd peak RSS (${m.workerdProcesses} process${m.workerdProcesses === 1 ? "" : "es"}), MB`,
    f(m.workerdPeakRssMb, 0),
  );
  kv("node peak RSS (bench + fake), MB", f(m.nodePeakRssMb, 0));

  if (r.cpu) {
    console.log(`\n(cpu) ${PROFILE}, ${f(r.cpu.totalMs, 0)} ms sampled; heaviest functions by self time`);
    for (const fn of r.cpu.top)
      console.log(row([fn.name.slice(0, 70), f(fn.ms, 0), `${f(fn.share * 100, 1)} %`], [72, 8, 8]));
  }

  console.log(`\ntargets`);
  for (const [name, value, ok] of targets) console.log(row([name, value, mark(ok)], [40, 14, 6]));
  if (r.workerOutput.stderrLines)
    console.log(`worker stderr: ${r.workerOutput.stderrLines} line(s), first: ${r.workerOutput.stderrSample[0]}`);
  console.log(line);
}

main().catch((error) => {
  console.error(`[bench] failed: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
