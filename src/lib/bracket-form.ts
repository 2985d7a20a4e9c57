/**
 * Decodes Antavo's legacy URL-encoded webhooks, whose nested keys use bracket form:
 * `data[total]=12&data[items][0][price]=5&events[1][action]=x`. Numeric segments build arrays,
 * `key[]` appends. Values stay strings; the schema coerces what must be numbers.
 */
type Node = Record<string, unknown> | unknown[];

const UNSAFE_KEYS = new Set(["__proto__", "prototype", "constructor"]);

function parseKey(key: string): string[] | undefined {
  const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
  if (!match) return undefined;
  const rest = [...(match[2] ?? "").matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1] ?? "");
  return [match[1] ?? "", ...rest];
}

export class BracketFormError extends Error {
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`form field "${key}": ${reason}`);
  }
}

export function parseBracketForm(body: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const segments = parseKey(key);
    if (!segments) throw new BracketFormError(key, "malformed brackets");
    if (segments.some((s) => UNSAFE_KEYS.has(s))) throw new BracketFormError(key, "reserved key");
    let node: Node = root;
    segments.forEach((segment, i) => {
      const last = i === segments.length - 1;
      const nextIsIndex = !last && /^\d*$/.test(segments[i + 1] ?? "");
      const slot = segment === "" && Array.isArray(node) ? node.length : segment;
      if (Array.isArray(node) && !/^\d+$/.test(String(slot)))
        throw new BracketFormError(key, "mixes list and object keys");
      const container = node as Record<string, unknown>;
      if (last) {
        container[slot as string] = value;
        return;
      }
      let child = container[slot as string];
      if (child === undefined) {
        child = nextIsIndex ? [] : {};
        container[slot as string] = child;
      }
      if (typeof child !== "object" || child === null) throw new BracketFormError(key, "conflicts with a plain value");
      node = child as Node;
    });
  }
  return root;
}
