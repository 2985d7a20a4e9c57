/**
 * Loose value comparison for filters. Antavo's legacy webhooks are form-encoded, so a number often
 * arrives as a string ("12.50"): numeric strings compare as numbers. Anything that is neither
 * numeric nor an ISO date is simply not ordered, so a filter fails instead of throwing.
 */
import { parseIsoInstant } from "./calendar";

/** Plain decimal only: "0x10", "" and "Infinity" are text, not numbers. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function numericValue(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "string" && DECIMAL.test(value.trim())) return Number(value.trim());
  return undefined;
}

export function looselyEqual(a: unknown, b: unknown): boolean {
  const [x, y] = [numericValue(a), numericValue(b)];
  if (x !== undefined && y !== undefined) return x === y;
  return a === b;
}

/** Negative, zero or positive; undefined when the two sides have no common order. */
export function compareOrdered(a: unknown, b: unknown): number | undefined {
  const [x, y] = [numericValue(a), numericValue(b)];
  if (x !== undefined && y !== undefined) return x - y;
  if (typeof a === "string" && typeof b === "string") {
    const [s, t] = [parseIsoInstant(a), parseIsoInstant(b)];
    if (s !== undefined && t !== undefined) return s - t;
  }
  return undefined;
}
