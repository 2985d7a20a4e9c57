/**
 * Peak memory of the bench: this node process and every workerd it spawned, read from /proc.
 * VmHWM is the kernel's own resident high-water mark, so short peaks between samples still count;
 * the sampler adds the peak of the processes' summed RSS, which no single VmHWM shows.
 */
import { readdirSync, readFileSync } from "node:fs";

function status(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0);
    return {
      name: /^Name:\s+(.+)$/m.exec(text)?.[1] ?? "?",
      ppid: Number(/^PPid:\s+(\d+)/m.exec(text)?.[1] ?? 0),
      rssKb: kb("VmRSS"),
      hwmKb: kb("VmHWM"),
    };
  } catch {
    return undefined;
  }
}

/** Every descendant of `root` (not only children: workerd may sit behind a wrapper). */
export function descendants(root = process.pid) {
  const all = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const s = status(entry);
    if (s) all.push({ pid: Number(entry), ...s });
  }
  const found = [];
  const parents = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all) {
      if (!parents.has(p.pid) && parents.has(p.ppid)) {
        parents.add(p.pid);
        found.push(p);
        grew = true;
      }
    }
  }
  return found;
}

/** CPU time (user + system, ms) every workerd of this bench has used so far. */
export function workerdCpuMs() {
  let ticks = 0;
  for (const p of descendants()) {
    if (!p.name.startsWith("workerd")) continue;
    try {
      // Fields 14 and 15 of /proc/<pid>/stat, counted after the ")" that ends the command name.
      const fields = readFileSync(`/proc/${p.pid}/stat`, "utf8").split(") ")[1].split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

// Linux's USER_HZ, which /proc reports in; 100 on every architecture Node supports.
const CLOCK_TICKS_PER_SECOND = 100;

export function startMemorySampler(intervalMs = 250) {
  let peakWorkerdSumKb = 0;
  const hwm = new Map();
  const sample = () => {
    let sum = 0;
    for (const p of descendants()) {
      if (!p.name.startsWith("workerd")) continue;
      sum += p.rssKb;
      hwm.set(p.pid, Math.max(hwm.get(p.pid) ?? 0, p.hwmKb));
    }
    peakWorkerdSumKb = Math.max(peakWorkerdSumKb, sum);
  };
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    /** Call before the runtime is disposed, while /proc still has the processes. */
    stop() {
      sample();
      clearInterval(timer);
      const self = status("self");
      return {
        workerdProcesses: hwm.size,
        workerdPeakRssMb: [...hwm.values()].reduce((a, b) => a + b, 0) / 1024,
        workerdPeakSampledSumMb: peakWorkerdSumKb / 1024,
        nodePeakRssMb: (self?.hwmKb ?? 0) / 1024,
      };
    },
  };
}
