/**
 * Decodes URL-encoded forms whose nested keys use bracket form: Antavo's legacy webhooks and the
 * admin UI's forms (`data[total]=12&data[items][0][price]=5&events[1][action]=x`, `key[]` appends).
 * Values stay strings; the schema coerces what must be numbers.
 *
 * `qs` builds the object, with its limits as a backstop (depth, array size, parameter count, thrown
 * rather than silently turned into other shapes). Every decoded key is also read here first, so a
 * refusal names the field: a reserved name (`__proto__`, `constructor`, `prototype`, which qs would
 * drop silently), an array index above MAX_FORM_INDEX (which would otherwise become an object key,
 * or a sparse array of a billion holes), nesting deeper than MAX_DEPTH, malformed brackets, and a
 * field that is both a value and a container (`data[a]=1&data[a][b]=2`, which qs would merge into
 * `["1", {b: "2"}]`).
 */
import qs from "qs";
import { isPrototypeKey, MAX_DEPTH } from "./input-limits";

export const MAX_FORM_INDEX = 1000;
export const MAX_FORM_PARAMETERS = 10_000;

const QS_OPTIONS = {
  depth: MAX_DEPTH,
  strictDepth: true,
  // qs makes an array of indexes below arrayLimit: 0..MAX_FORM_INDEX.
  arrayLimit: MAX_FORM_INDEX + 1,
  parameterLimit: MAX_FORM_PARAMETERS,
  throwOnLimitExceeded: true,
  // Keys such as `toString` are ordinary data here: the three that reach the prototype are refused below.
  allowPrototypes: true,
  // A repeated plain field keeps its last value; only `key[]` collects a list.
  duplicates: "last",
} as const;

export class BracketFormError extends Error {
  constructor(
    /** The form field name as sent (decoded). */
    readonly key: string,
    reason: string,
    /** Where the problem is: the field name for malformed fields, a dot path for exceeded limits. */
    readonly path: string = key,
    /** A limit (invariant 8) rather than a malformed field. */
    readonly limit = false,
  ) {
    super(`form field "${key}": ${reason}`);
  }
}

function segmentsOf(key: string): string[] | undefined {
  const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
  if (!match) return undefined;
  const rest = [...(match[2] ?? "").matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1] ?? "");
  return [match[1] ?? "", ...rest];
}

interface KeyNode {
  leaf: boolean;
  list?: boolean;
  children: Map<string, KeyNode>;
}

/** Refuses what qs would hide or reshape; `seen` is the tree of fields read so far. */
function checkKey(key: string, seen: KeyNode) {
  const segments = segmentsOf(key);
  if (!segments) throw new BracketFormError(key, "malformed brackets");
  const dotted = (count: number) =>
    segments
      .slice(0, count)
      .map((s) => (s === "" ? "[]" : s))
      .join(".") || "$";
  segments.forEach((segment, index) => {
    if (isPrototypeKey(segment))
      throw new BracketFormError(key, `"${segment}" is a reserved name`, dotted(index + 1), true);
    if (index > 0 && /^\d+$/.test(segment) && Number(segment) > MAX_FORM_INDEX)
      throw new BracketFormError(key, `list index above ${MAX_FORM_INDEX}`, dotted(index + 1), true);
  });
  if (segments.length > MAX_DEPTH)
    throw new BracketFormError(key, `nests deeper than ${MAX_DEPTH} levels`, dotted(MAX_DEPTH + 1), true);

  let node = seen;
  segments.forEach((segment, index) => {
    if (node.leaf) throw new BracketFormError(key, "conflicts with a plain value");
    if (index > 0) {
      const list = /^\d*$/.test(segment);
      if (node.list !== undefined && node.list !== list) throw new BracketFormError(key, "mixes list and object keys");
      node.list = list;
    }
    const last = index === segments.length - 1;
    // `key[]` appends: a new entry every time, up to the same length as an index allows.
    if (segment === "" && node.children.size > MAX_FORM_INDEX)
      throw new BracketFormError(key, `more than ${MAX_FORM_INDEX + 1} list entries`, dotted(index), true);
    let child = segment === "" ? undefined : node.children.get(segment);
    if (!child) {
      child = { leaf: false, children: new Map() };
      node.children.set(segment === "" ? `[]${node.children.size}` : segment, child);
    }
    if (last) {
      if (child.children.size > 0) throw new BracketFormError(key, "conflicts with nested fields");
      child.leaf = true;
    }
    node = child;
  });
}

export function parseBracketForm(body: string): Record<string, unknown> {
  const seen: KeyNode = { leaf: false, children: new Map() };
  let keyError: BracketFormError | undefined;
  let parsed: Record<string, unknown>;
  try {
    parsed = qs.parse(body, {
      ...QS_OPTIONS,
      decoder(text, decode, charset, type) {
        const decoded = decode(text, decode, charset);
        // qs ignores empty keys (`a=1&`), so they are not fields to check.
        if (type === "key" && decoded !== "" && !keyError) {
          try {
            checkKey(decoded, seen);
          } catch (error) {
            keyError = error as BracketFormError;
          }
        }
        return decoded;
      },
    });
  } catch (error) {
    if (keyError) throw keyError;
    // A qs limit without a field to blame (e.g. more than MAX_FORM_PARAMETERS fields).
    if (error instanceof RangeError) throw new BracketFormError("$", error.message, "$", true);
    throw error;
  }
  if (keyError) throw keyError;
  return parsed;
}
