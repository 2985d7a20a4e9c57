/**
 * Reads `.dev.vars` (the dotenv-style file wrangler loads as local secrets) so the dev scripts use
 * the same admin token and webhook credentials as the Worker they talk to.
 */
import { readFileSync } from "node:fs";

export function parseDevVars(text) {
  const vars = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2];
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.lastIndexOf(quote) > 0) {
      value = value.slice(1, value.lastIndexOf(quote));
      if (quote === '"') value = value.replace(/\\n/g, "\n").replace(/\\(["\\])/g, "$1");
    } else {
      value = value.replace(/\s+#.*$/, "").trim();
    }
    vars[match[1]] = value;
  }
  return vars;
}

export const readDevVars = (path) => parseDevVars(readFileSync(path, "utf8"));
