/**
 * The bench's runtime: one Miniflare (one workerd) built from wrangler.toml's top-level environment
 * rather than through `wrangler dev`, whose proxy would be measured instead of the Worker.
 *   relay         the built Worker with every binding: D1, the events queue (producer, consumer,
 *                 dead-letter queue, wrangler.toml's batch settings), both SQLite-backed DOs.
 *   relay-ingest  the same bundle and D1, whose hand-off queue is drained by the baseline's no-op
 *                 consumer: the ingest path measured on equal terms with the baselines.
 *   baseline      test/bench/baseline-worker.mjs, with the consumer's floor: its own queue (the relay's
 *                 batch settings, no dead-letter queue) and a SQLite-backed Durable Object class,
 *                 posting to the same fake Bloomreach as the relay.
 * Everything is in memory and served on loopback ports of its own (direct sockets, no router).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Log, LogLevel, Miniflare } from "miniflare";
import { parse as parseToml } from "smol-toml";

const HANDOFF_CONSUMER = { maxBatchSize: 100, maxBatchTimeout: 1 };
export const FLOOR_QUEUE = "bench-floor-events";

/**
 * Prints warnings and errors only, but keeps the queue broker's per-batch lines
 * ("QUEUE <name> <acked>/<size> (<ms>ms)"): how long each consumer invocation took is the first
 * thing to look at when delivery is slow.
 */
class BenchLog extends Log {
  batches = [];
  constructor() {
    super(LogLevel.INFO);
  }
  logWithLevel(level, message) {
    const plain = String(message).replace(/\x1b\[[0-9;]*m/g, "");
    const batch = /QUEUE (\S+) (\d+)\/(\d+)(?: \((\d+)ms\))?/.exec(plain);
    if (batch) {
      this.batches.push({
        queue: batch[1],
        acked: Number(batch[2]),
        size: Number(batch[3]),
        ms: Number(batch[4] ?? NaN),
        at: Date.now(),
      });
      return;
    }
    if (level <= LogLevel.WARN) super.logWithLevel(level, message);
  }
}

export function readWranglerConfig(root) {
  const toml = parseToml(readFileSync(join(root, "wrangler.toml"), "utf8"));
  const [events, deadLetters, ...others] = toml.queues.consumers;
  return {
    compatibilityDate: toml.compatibility_date,
    compatibilityFlags: toml.compatibility_flags ?? [],
    vars: toml.vars ?? {},
    producerBinding: toml.queues.producers[0].binding,
    /** Further queues (the backfill pages'): produced and consumed as wrangler.toml says. */
    otherProducers: toml.queues.producers.slice(1),
    otherConsumers: others,
    events,
    deadLetters,
    durableObjects: toml.durable_objects.bindings,
    sqliteClasses: new Set(toml.migrations.flatMap((m) => m.new_sqlite_classes ?? [])),
    migrationsDir: toml.d1_databases[0].migrations_dir,
  };
}

const consumerOptions = (c) => ({
  maxBatchSize: c.max_batch_size,
  maxBatchTimeout: c.max_batch_timeout,
  ...(c.max_retries !== undefined ? { maxRetries: c.max_retries } : {}),
  ...(c.dead_letter_queue ? { deadLetterQueue: c.dead_letter_queue } : {}),
});

/**
 * `relayScript` serves the relay (with the consumer); `relayIngestScript` (default: the same)
 * serves relay-ingest, so counting wrappers (counting.mjs) stay off the measured ingest path.
 */
export async function startRuntime({
  root,
  relayScript,
  relayIngestScript,
  baselineScript,
  secrets,
  floor,
  onOutput,
  inspectorPort,
}) {
  const config = readWranglerConfig(root);
  const common = {
    modules: true,
    compatibilityDate: config.compatibilityDate,
    compatibilityFlags: config.compatibilityFlags,
    d1Databases: { DB: "bench-db" },
    // wrangler's bundles are ES modules named .js (the counting entry imports them by name).
    modulesRules: [{ type: "ESModule", include: ["**/*.js", "**/*.mjs"] }],
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
  };
  const bindings = { ...config.vars, ...secrets };

  const log = new BenchLog();
  const mf = new Miniflare({
    log,
    // The placeholder `cf` object: no fetch to Cloudflare, the bench runs offline.
    cf: false,
    ...(inspectorPort ? { inspectorPort } : {}),
    handleRuntimeStdio(stdout, stderr) {
      stdout.on("data", (d) => onOutput?.("stdout", String(d)));
      stderr.on("data", (d) => onOutput?.("stderr", String(d)));
    },
    workers: [
      {
        ...common,
        name: "relay",
        scriptPath: relayScript,
        modulesRoot: dirname(relayScript),
        bindings,
        queueProducers: {
          [config.producerBinding]: { queueName: config.events.queue },
          ...Object.fromEntries(config.otherProducers.map((p) => [p.binding, { queueName: p.queue }])),
        },
        queueConsumers: {
          [config.events.queue]: consumerOptions(config.events),
          [config.deadLetters.queue]: consumerOptions(config.deadLetters),
          ...Object.fromEntries(config.otherConsumers.map((c) => [c.queue, consumerOptions(c)])),
        },
        durableObjects: Object.fromEntries(
          config.durableObjects.map((b) => [
            b.name,
            { className: b.class_name, useSQLite: config.sqliteClasses.has(b.class_name) },
          ]),
        ),
      },
      {
        ...common,
        name: "relay-ingest",
        scriptPath: relayIngestScript ?? relayScript,
        modulesRoot: dirname(relayIngestScript ?? relayScript),
        bindings,
        queueProducers: {
          [config.producerBinding]: { queueName: "bench-ingest-handoff" },
          ...Object.fromEntries(config.otherProducers.map((p) => [p.binding, { queueName: "bench-ingest-handoff" }])),
        },
      },
      {
        ...common,
        name: "baseline",
        scriptPath: baselineScript,
        modulesRoot: dirname(baselineScript),
        bindings: {
          FLOOR_QUEUE_NAME: FLOOR_QUEUE,
          FLOOR_BLOOMREACH_URL: floor?.baseUrl ?? "http://127.0.0.1:9",
          FLOOR_PROJECT_TOKEN: floor?.projectToken ?? "",
          FLOOR_API_KEY_ID: floor?.apiKeyId ?? "",
          FLOOR_API_SECRET: floor?.apiSecret ?? "",
        },
        queueProducers: {
          HANDOFF_QUEUE: { queueName: "bench-baseline-handoff" },
          FLOOR_QUEUE: { queueName: FLOOR_QUEUE },
        },
        queueConsumers: {
          "bench-ingest-handoff": HANDOFF_CONSUMER,
          "bench-baseline-handoff": HANDOFF_CONSUMER,
          // The relay's batch settings (size, timeout, retries), so both consumers see the same batches.
          [FLOOR_QUEUE]: { ...consumerOptions(config.events), deadLetterQueue: undefined },
        },
        durableObjects: { FLOOR_CUSTOMER: { className: "FloorCustomer", useSQLite: true } },
      },
    ],
  });
  try {
    await mf.ready;
    await applyMigrations(await mf.getD1Database("DB", "relay"), join(root, config.migrationsDir));
    const urls = {
      relay: (await mf.unsafeGetDirectURL("relay")).origin,
      relayIngest: (await mf.unsafeGetDirectURL("relay-ingest")).origin,
      baseline: (await mf.unsafeGetDirectURL("baseline")).origin,
    };
    return { mf, urls, config, log };
  } catch (error) {
    // The caller has no handle yet: stop workerd here, or it keeps node alive.
    await mf.dispose().catch(() => undefined);
    throw error;
  }
}

/** Applies migrations/*.sql in order, statement by statement (drizzle-kit's breakpoints). */
async function applyMigrations(db, dir) {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort();
  for (const file of files) {
    const statements = readFileSync(join(dir, file), "utf8")
      .split("--> statement-breakpoint")
      .map((s) => s.trim())
      .filter(Boolean);
    await db.batch(statements.map((s) => db.prepare(s)));
  }
  return files;
}
