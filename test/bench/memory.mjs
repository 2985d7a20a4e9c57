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
