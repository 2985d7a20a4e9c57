/**
 * `npm run reset`: forgets the local relay's state (D1, Durable Objects, queues under
 * .wrangler/state), so the next `npm start` begins from an empty database, for example to choose
 * another hard ID (which is locked once set). `.dev.vars` (the local secrets) is kept.
 */
import { existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const STATE = join(dirname(fileURLToPath(import.meta.url)), "..", "..", ".wrangler", "state");

if (!existsSync(STATE)) {
  console.log("[reset] nothing to reset: there is no local state yet");
} else {
  rmSync(STATE, { recursive: true, force: true });
  console.log("[reset] removed .wrangler/state (local D1, Durable Objects, queues); .dev.vars is kept");
  console.log("[reset] stop any running `npm start` first; the next one starts from an empty database");
}
