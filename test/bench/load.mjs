/**
 * A bounded closed-loop HTTP load generator for loopback targets: a fixed number of requests with
 * at most `concurrency` in flight, over kept-alive sockets (node:http, lighter than fetch, so the
 * client takes less of the two cores from the server it measures).
 */
import { Agent, request } from "node:http";

export async function runLoad({ url, total, concurrency, body, headers = {}, timeoutMs = 30_000 }) {
  const target = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies = new Float64Array(total);
  const statuses = new Map();
  let errors = 0;
  let next = 0;
  const started = process.hrtime.bigint();

  const one = (index) =>
    new Promise((resolve) => {
      const payload = Buffer.from(body(index));
      const t0 = process.hrtime.bigint();
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: "POST",
          headers: { "content-type": "application/json", "content-length": payload.length, ...headers },
          timeout: timeoutMs,
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            latencies[index] = Number(process.hrtime.bigint() - t0) / 1e6;
            statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
            resolve();
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", () => {
        latencies[index] = Number(process.hrtime.bigint() - t0) / 1e6;
        errors++;
        resolve();
      });
      req.end(payload);
    });

  const worker = async () => {
    while (next < total) await one(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  return {
    total,
    seconds,
    rps: total / seconds,
    latencies: [...latencies],
    statuses: Object.fromEntries(statuses),
    errors,
  };
}

export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
