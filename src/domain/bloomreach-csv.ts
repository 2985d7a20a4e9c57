/**
 * The Bloomreach import file (DESIGN 4.5): the hard-ID column, then one column per mapped remote
 * field, each value typed as its mapping says (field-types), one customer per row. Pure.
 *
 * Cells follow RFC 4180 (quoted when they hold a comma, quote, line break or edge spaces; quotes
 * doubled). Text that a spreadsheet would run as a formula (starting with = + - @, a tab or a
 * carriage return) gets a leading apostrophe (OWASP's CSV-injection advice): the file is often
 * opened before it is imported. Typed numbers, booleans and dates are values, never prefixed.
 */
import type { SyncConfig } from "./config";
import { mappedProperties, resolveCustomerIds } from "./planner";

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

export function csvCell(value: unknown): string {
  if (value === undefined || value === null) return "";
  let text: string;
  if (typeof value === "number") text = Number.isFinite(value) ? String(value) : "";
  else if (typeof value === "boolean") text = value ? "true" : "false";
  else {
    text = typeof value === "string" ? value : JSON.stringify(value);
    if (FORMULA_START.test(text)) text = `'${text}`;
  }
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const csvLine = (cells: unknown[]) => `${cells.map(csvCell).join(",")}\r\n`;

/** The header: the hard ID's remote name, then each mapped remote field once, in mapping order. */
export function exportColumns(config: SyncConfig): string[] {
  const hardId = config.mapping.hardId;
  if (!hardId) return [];
  const fields = [...new Set(config.mapping.fields.map((f) => f.remoteField))].filter((f) => f !== hardId.remoteId);
  return [hardId.remoteId, ...fields];
}

/** One customer's row, or undefined when the customer has no usable hard ID (Bloomreach needs one). */
export function exportRow(
  config: SyncConfig,
  columns: string[],
  customer: Record<string, unknown>,
): string | undefined {
  const ids = resolveCustomerIds(config, customer);
  const hardId = config.mapping.hardId;
  if (!ids || !hardId) return undefined;
  const { properties } = mappedProperties(config, customer);
  return csvLine([ids[hardId.remoteId], ...columns.slice(1).map((c) => properties[c])]);
}
