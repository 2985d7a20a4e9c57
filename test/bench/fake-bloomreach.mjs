/**
 * The bench's Bloomreach: a loopback Node server answering each batch after a fixed latency with
 * per-command success, like the vendor. It counts every event command by (customer_ids,
 * event_type, timestamp, properties) — events have no idempotency key in Bloomreach, so a second
 * identical command is a visible duplicate — and keeps no command bodies, so memory stays flat.
 */
import { createServer } from "node:http";

const BATCH_ROUTE = /^\/track\/v2\/projects\/([^/]+)\/batch$/;

function stableJson(value) {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The e-mail domain of the bench's backfilled customers, so their calls are told apart. */
export const BACKFILL_DOMAIN = "@backfill.bench";

export async function startFakeBloomreach({ projectToken, apiKeyId, apiSecret, latencyMs = 50 }) {
  let latency = latencyMs;
  const auth = `Basic ${Buffer.from(`${apiKeyId}:${apiSecret}`).toString("base64")}`;
  const stats = {
    batchCalls: 0,
    commands: 0,
    customerCommands: 0,
    eventCommands: 0,
    maxCommandsPerCall: 0,
    /** Batch calls being answered right now, and the most at once since the last resetInFlight(). */
    inFlight: 0,
    maxInFlight: 0,
    unexpected: [],
    /** key -> count, for event commands */
    eventCounts: new Map(),
    /** bench sequence number -> count, to tell lost events from events with changed payloads */
    seqCounts: new Map(),
    /** bench sequence number -> when its first answer left (ms), to time a phase by its own range */
    seqAnsweredAt: new Map(),
    firstEventAt: undefined,
    lastEventAt: undefined,
    /** Calls and commands for backfilled customers (hard IDs ending in BACKFILL_DOMAIN). */
    backfillCalls: 0,
    backfillCommands: 0,
    backfillCustomers: new Map(),
  };
  const flag = (message) => stats.unexpected.length < 50 && stats.unexpected.push(message);

  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const match = BATCH_ROUTE.exec(req.url ?? "");
      if (req.method !== "POST" || !match) {
        flag(`${req.method} ${req.url}`);
        return reply(res, 404, { success: false, error: "Not found" });
      }
      if (match[1] !== projectToken) return reply(res, 404, { success: false, error: "Project not found" });
      if (req.headers.authorization !== auth) {
        flag("bad credentials");
        return reply(res, 401, { success: false, errors: ["Unknown API key"] });
      }
      let commands;
      try {
        commands = JSON.parse(Buffer.concat(chunks).toString("utf8")).commands;
      } catch {
        return reply(res, 400, { success: false, message: "Invalid JSON" });
      }
      if (!Array.isArray(commands) || commands.length === 0)
        return reply(res, 400, { success: false, message: "No commands" });
      if (commands.length > 50) flag(`batch of ${commands.length} commands`);
      const start = Date.now() / 1000;
      stats.batchCalls++;
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      stats.commands += commands.length;
      stats.maxCommandsPerCall = Math.max(stats.maxCommandsPerCall, commands.length);
      const seqs = [];
      const backfilled = commands.filter((c) =>
        String(c.data?.customer_ids?.registered ?? "").endsWith(BACKFILL_DOMAIN),
      );
      if (backfilled.length > 0) {
        stats.backfillCalls++;
        stats.backfillCommands += backfilled.length;
        for (const c of backfilled) {
          const id = c.data.customer_ids.registered;
          stats.backfillCustomers.set(id, (stats.backfillCustomers.get(id) ?? 0) + 1);
        }
      }
      for (const { name, data } of commands) {
        if (name === "customers") stats.customerCommands++;
        if (name !== "customers/events") continue;
        stats.eventCommands++;
        const key = stableJson([data.customer_ids, data.event_type, data.timestamp, data.properties ?? {}]);
        stats.eventCounts.set(key, (stats.eventCounts.get(key) ?? 0) + 1);
        const seq = data.properties?.bench_seq;
        if (seq !== undefined) {
          stats.seqCounts.set(seq, (stats.seqCounts.get(seq) ?? 0) + 1);
          seqs.push(seq);
        }
      }
      setTimeout(() => {
        stats.inFlight--;
        const now = Date.now();
        stats.firstEventAt ??= now;
        stats.lastEventAt = now;
        for (const seq of seqs) if (!stats.seqAnsweredAt.has(seq)) stats.seqAnsweredAt.set(seq, now);
        reply(res, 200, {
          success: true,
          start_time: start,
          end_time: now / 1000,
          results: commands.map(() => ({ success: true })),
        });
      }, latency);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    stats,
    duplicates: () => [...stats.eventCounts.values()].reduce((sum, n) => sum + (n - 1), 0),
    resetInFlight: () => {
      stats.maxInFlight = stats.inFlight;
    },
    /** The answer latency from now on (the slow phase's 500 ms Bloomreach). */
    setLatency: (ms) => {
      latency = ms;
    },
    get latencyMs() {
      return latency;
    },
    /**
     * The events of one phase, by its range of sequence numbers [from, to): how many arrived, how
     * many more than once, and when the last new one was answered.
     */
    seqRange(from, to) {
      let distinct = 0;
      let duplicated = 0;
      let answered = 0;
      let lastAt;
      for (const [seq, n] of stats.seqCounts) {
        if (seq < from || seq >= to) continue;
        distinct++;
        duplicated += n - 1;
        const at = stats.seqAnsweredAt.get(seq);
        if (at === undefined) continue;
        answered++;
        if (lastAt === undefined || at > lastAt) lastAt = at;
      }
      return { distinct, duplicated, answered, lastAt };
    },
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
