/**
 * The shape limits every boundary applies to a parsed body before anything else reads it
 * (invariant 8): nesting at most 32 deep, no prototype keys (`__proto__`, `constructor`,
 * `prototype`) anywhere, only well-formed Unicode (no lone surrogates) in keys and strings, and,
 * where the caller says so, ASCII-only property names (Bloomreach attribute names must be ASCII).
 *
 * The walk is iterative on purpose: it runs before the recursive code (zod, the dedupe hash,
 * JSON.stringify, templates), so a 50,000-deep document must not overflow the stack here either.
 */
import { type ErrorIssue, formatPath } from "./errors";

export const MAX_DEPTH = 32;
/** Enough to point at the problems; a 1 MiB body of bad keys must not become a 1 MiB error body. */
export const MAX_REPORTED_ISSUES = 20;

/** Keys that reach Object.prototype through assignment or property reads. */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

export type PathSegment = string | number;

export interface InputLimitOptions {
  maxDepth?: number;
  /** Whether the keys of the object at `path` must be ASCII (the path is that object's own path). */
  asciiKeysAt?: (path: readonly PathSegment[]) => boolean;
}

// With the u flag a surrogate pair is one code point, so this matches only lone surrogates.
const LONE_SURROGATE = /\p{Cs}/u;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

export function isPrototypeKey(key: string): boolean {
  return PROTOTYPE_KEYS.has(key);
}

/** Problems with a parsed value, each with its path (`events.3.data.items.0`, `$` for the root); empty when fine. */
export function inputIssues(value: unknown, options: InputLimitOptions = {}): ErrorIssue[] {
  const maxDepth = options.maxDepth ?? MAX_DEPTH;
  const issues: ErrorIssue[] = [];
  const add = (path: readonly PathSegment[], message: string) => {
    issues.push({ path: formatPath(path), message });
    return issues.length >= MAX_REPORTED_ISSUES;
  };
  // depth counts containers: the root object or array is depth 1. Strings are checked where they
  // are met and only containers go on the stack, so a million numbers cost no path copies.
  const stack: { value: object; path: PathSegment[]; depth: number }[] = [];
  const visit = (child: unknown, path: readonly PathSegment[], key: PathSegment | undefined, depth: number) => {
    const childPath = () => (key === undefined ? [...path] : [...path, key]);
    if (typeof child === "string")
      return !isWellFormed(child) && add(childPath(), "is not well-formed Unicode (a lone surrogate)");
    if (child === null || typeof child !== "object") return false;
    if (depth > maxDepth) return add(childPath(), `nests deeper than ${maxDepth} levels`);
    stack.push({ value: child, path: childPath(), depth });
    return false;
  };
  if (visit(value, [], undefined, 1)) return issues;
  while (stack.length > 0) {
    const { value: current, path, depth } = stack.pop()!;
    let full = false;
    if (Array.isArray(current)) {
      // Index by index, last first so that issues come out in document order; holes read as undefined.
      for (let index = current.length - 1; index >= 0 && !full; index--)
        full = visit(current[index], path, index, depth + 1);
    } else {
      const ascii = options.asciiKeysAt?.(path) ?? false;
      const keys = Object.keys(current);
      for (let index = keys.length - 1; index >= 0 && !full; index--) {
        const key = keys[index]!;
        if (isPrototypeKey(key)) full = add([...path, key], `"${key}" is a reserved name`);
        else if (!isWellFormed(key))
          full = add([...path, key], "the name is not well-formed Unicode (a lone surrogate)");
        else if (ascii && !PRINTABLE_ASCII.test(key)) full = add([...path, key], "property names must be ASCII");
        else full = visit((current as Record<string, unknown>)[key], path, key, depth + 1);
      }
    }
    if (full) break;
  }
  return issues;
}
