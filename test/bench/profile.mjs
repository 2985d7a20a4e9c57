/**
 * BENCH_PROFILE=<worker> (relay, relay-ingest or baseline): a CPU profile of that worker's isolate
 * over the measured phases, through workerd's DevTools inspector. The profile is written next to
 * latest.json (open it in Chrome's DevTools, Performance tab) and the heaviest functions by self
 * time are printed, so "where does the time go" is answered by the runtime, not by guessing.
 * The profiler's sampling slows the worker: figures of a profiled run are not comparable.
 */
import { writeFileSync } from "node:fs";
import WebSocket from "ws";

export async function startProfile(inspectorPort, worker) {
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json();
  const target = targets.find((t) => t.id === worker || t.id?.endsWith(`:${worker}`));
  if (!target) throw new Error(`no inspector target for ${worker}: ${targets.map((t) => t.id).join(", ")}`);
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  let nextId = 0;
  const pending = new Map();
  socket.on("message", (data) => {
    const message = JSON.parse(String(data));
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error) waiter.reject(new Error(`${message.error.message}`));
    else waiter.resolve(message.result);
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 200 });
  await send("Profiler.start");
  return {
    async stop(path) {
      const { profile } = await send("Profiler.stop");
      socket.close();
      writeFileSync(path, JSON.stringify(profile));
      return summarise(profile);
    },
  };
}

/** Self time per function (name + script + line), heaviest first, as shares of the sampled time. */
function summarise(profile, top = 30) {
  const interval = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i + 1] ?? 0;
    interval.set(profile.samples[i], (interval.get(profile.samples[i]) ?? 0) + delta);
  }
  const byFunction = new Map();
  let total = 0;
  for (const node of profile.nodes) {
    const us = interval.get(node.id) ?? 0;
    total += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || "(anonymous)"} ${url.split("/").pop()}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  return {
    totalMs: total / 1000,
    top: [...byFunction]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, share: us / total })),
  };
}
