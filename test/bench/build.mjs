/**
 * Bundles what the bench runs with wrangler's own build (`deploy --dry-run`), so workerd executes
 * the same bytes a deploy would upload rather than a bench-specific build.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

/**
 * Without `script`, builds the relay from wrangler.toml. With one, builds that file alone under a
 * throwaway config, so the relay's bindings (and its Durable Object exports) are not asked of it.
 */
export async function buildWorker(root, outdir, { script, name, compatibilityDate } = {}) {
  const wrangler = join(root, "node_modules", ".bin", "wrangler");
  mkdirSync(outdir, { recursive: true });
  let config = [];
  if (script) {
    const path = join(outdir, "..", `${name}.wrangler.json`);
    writeFileSync(path, JSON.stringify({ name, main: resolve(root, script), compatibility_date: compatibilityDate }));
    config = ["--config", path];
  }
  // --env="" picks the top-level (local) environment explicitly, without wrangler's warning.
  const args = ["deploy", ...config, "--dry-run", "--outdir", outdir, "--env="];
  const output = await new Promise((resolve, reject) => {
    const child = spawn(wrangler, args, {
      cwd: root,
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: "false",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        NO_UPDATE_NOTIFIER: "1",
        FORCE_COLOR: "0",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    child.stdout.on("data", (d) => (text += d));
    child.stderr.on("data", (d) => (text += d));
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve(text) : reject(new Error(`wrangler ${args.join(" ")} failed (${code}):\n${text}`)),
    );
  });
  // wrangler names the bundle after the entry file (index.js for src/index.ts).
  const bundle = readdirSync(outdir).find((f) => f.endsWith(".js"));
  if (!bundle) throw new Error(`wrangler wrote no bundle to ${outdir}:\n${output}`);
  const scriptPath = join(outdir, bundle);
  const size = /Total Upload: ([^\n]+)/.exec(output)?.[1]?.trim();
  return { scriptPath, size };
}
