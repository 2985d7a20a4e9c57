/**
 * `npm run reset` (and `npm start -- --reset`): forgets the local relay's state (D1, Durable
 * Objects, queues under .wrangler/state), so the next start begins from an empty database, for
 * example to choose another hard ID (which is locked once set). `.dev.vars` (the local secrets) is
 * kept.
 */
import { existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const STATE = join(dirname(fileURLToPath(import.meta.url)), "..", "..", ".wrangler", "state");

/** Removes the local state; answers whether there was any. */
export function resetLocalState(log = (message) => console.log(`[reset] ${message}`)) {
  if (!existsSync(STATE)) {
    log("nothing to reset: there is no local state yet");
    return false;
  }
  rmSync(STATE, { recursive: true, force: true });
  log("removed .wrangler/state (local D1, Durable Objects, queues); .dev.vars is kept");
  return true;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  if (resetLocalState())
    console.log("[reset] stop any running `npm start` first; the next one starts from an empty database");
}
