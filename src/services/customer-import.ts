/**
 * Bulk import of Antavo customers into the D1 customer mirror (`POST /api/customers/import`), so
 * date workflows and filters know customers before their first webhook. The body is read as it
 * streams in, line by line; each row is validated on its own and good rows are kept when others are
 * bad. Rows are written in batches of multi-row upserts sized for D1's 100 bound parameters.
 *
 * Formats:
 * - NDJSON: one Antavo customer object per line.
 * - CSV: a header row; columns are dot paths into the customer (`email`, `properties.store`,
 *   `tiers.0.name`); empty cells leave the field out. Cells stay text (a zip code or a phone number
 *   keeps its leading zero), except the Customer API's numeric fields (ANTAVO_NUMERIC_FIELDS), which must
 *   be plain decimal numbers and are stored as numbers. NDJSON numeric fields are held to the same
 *   rule, so a score exported as "120" is stored as 120.
 *
 * A row without a value for the hard-ID field is kept (date workflows and filters can still use it)
 * with a warning: Bloomreach knows customers only by that value, so it cannot be matched there yet.
 */
import { z } from "zod";
import type { Database } from "../db/client";
import { readMapping } from "../db/config-queries";
import { mirrorRow, upsertCustomersReportingExisting } from "../db/customer-queries";
import { ANTAVO_NUMERIC_FIELDS } from "../domain/antavo-fields";
import { readPath } from "../domain/paths";
import { parseDateOnly } from "../domain/workflow/calendar";
import { formatPath, RelayError } from "../lib/errors";
import { inputIssues, isPrototypeKey, MAX_DEPTH } from "../lib/input-limits";
import { csvRecords, type Line, readLines, UploadTooLargeError } from "../lib/line-stream";

export interface ImportDeps {
  db: Database;
  now: () => number;
}

export type ImportFormat = "ndjson" | "csv";

/**
 * What an import did. Imported rows seed only the D1 mirror (read by date workflows, filters and
 * the preview); the CustomerSync objects keep their own snapshot, which the next webhook (or date
 * run) for the customer brings up to date. A row replaces the customer's mirrored snapshot.
 */
export interface ImportSummary {
  /** New customers. */
  imported: number;
  /** Customers already in the mirror (or earlier in the same upload) whose snapshot was replaced. */
  updated: number;
  /** The first MAX_REPORTED_REJECTIONS rejected rows. */
  rejected: { line: number; reason: string }[];
  rejectedCount: number;
  /** The first MAX_REPORTED_REJECTIONS kept rows with something to know (e.g. no hard-ID value). */
  warnings: { line: number; message: string }[];
  warningCount: number;
  /** Data rows read (header and blank lines not counted). */
  total: number;
  /** Set when the upload had more than `maxRows` rows: nothing from `nextLine` on was read. */
  truncated?: { nextLine: number; message: string };
}

export interface ImportOptions {
  /** Rows read per request; keeps one request within D1's per-invocation query limit. */
  maxRows?: number;
  /** Bytes read per request (MAX_IMPORT_BYTES): blank lines are not rows, so rows alone do not bound an upload. */
  maxBytes?: number;
}

/** 10,000 rows: 20 D1 batches of at most 30 statements, well inside 1,000 queries per invocation. */
export const MAX_IMPORT_ROWS = 10_000;
export const MAX_REPORTED_REJECTIONS = 100;
/**
 * 32 MiB: 10,000 rows of about 3 KiB each. The upload is streamed (one line in memory at a time),
 * so this bounds the time one request may take, not memory.
 */
export const MAX_IMPORT_BYTES = 32 * 1024 * 1024;
/** The largest list index a CSV column may name (`tiers.1000.name`), as for form bodies. */
const MAX_COLUMN_INDEX = 1000;
const MAX_LINE_CHARS = 64 * 1024;
const FLUSH_ROWS = 500;

const DECIMAL = /^-?\d+(\.\d+)?$/;

const numeric = z
  .union([z.number(), z.string().trim().regex(DECIMAL).transform(Number)], { error: "must be a number" })
  .refine(Number.isFinite, "must be a number")
  .nullable()
  .optional();

const birthDate = z
  .string({ error: "must be a date as YYYY-MM-DD" })
  .trim()
  .transform((value) => (value === "" ? null : value))
  .refine((value) => value === null || parseDateOnly(value) !== undefined, "must be a real date as YYYY-MM-DD")
  .nullable()
  .optional();

const CustomerRowSchema = z.looseObject({
  id: z
    .string({
      error: (issue) =>
        issue.input === undefined || issue.input === null ? "is required (a non-empty string)" : "must be a string",
    })
    .min(1, "is required (a non-empty string)")
    .refine((id) => id.trim() === id && id !== "", "must not be blank or start or end with spaces"),
  email: z.string({ error: "must be a string" }).nullable().optional(),
  birth_date: birthDate,
  ...Object.fromEntries(ANTAVO_NUMERIC_FIELDS.map((field) => [field, numeric])),
  tiers: z
    .array(
      z.looseObject({ name: z.string({ error: "must be a string" }).optional(), points: numeric, since: numeric }),
      { error: "must be a list" },
    )
    .optional(),
  properties: z.record(z.string(), z.unknown(), { error: "must be an object" }).nullable().optional(),
});

type Row = { line: number; customer: z.infer<typeof CustomerRowSchema> };
type RowResult = Row | { line: number; reason: string };

function validateRow(line: number, input: unknown): RowResult {
  if (typeof input !== "object" || input === null || Array.isArray(input))
    return { line, reason: "must be a JSON object (one customer per line)" };
  const parsed = CustomerRowSchema.safeParse(input);
  if (parsed.success) return { line, customer: parsed.data };
  return { line, reason: parsed.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`).join("; ") };
}

// ---- formats ---------------------------------------------------------------------------------

async function* ndjsonRows(lines: AsyncIterable<Line>): AsyncGenerator<RowResult> {
  for await (const { number, text, tooLong } of lines) {
    if (tooLong) {
      yield { line: number, reason: `the line is longer than ${MAX_LINE_CHARS} characters` };
      continue;
    }
    if (text.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      yield { line: number, reason: `not valid JSON: ${(error as Error).message}` };
      continue;
    }
    // Before zod, which would copy a `__proto__` key into the prototype of the row it builds.
    const issues = inputIssues(value);
    if (issues.length > 0) {
      yield { line: number, reason: issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ") };
      continue;
    }
    yield validateRow(number, value);
  }
}

const COLUMN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

function headerOf(fields: string[]): string[] {
  const columns = fields.map((f) => f.trim());
  const issues: { path: string; message: string }[] = [];
  columns.forEach((column, index) => {
    const segments = column.split(".");
    const reserved = segments.find(isPrototypeKey);
    if (!COLUMN.test(column))
      issues.push({
        path: `header.${index}`,
        message: `"${column}" is not a field name or dot path like properties.store`,
      });
    else if (reserved !== undefined)
      issues.push({ path: `header.${index}`, message: `"${column}": "${reserved}" is a reserved name` });
    else if (segments.length > MAX_DEPTH)
      issues.push({ path: `header.${index}`, message: `"${column}" nests deeper than ${MAX_DEPTH} levels` });
    else if (segments.some((segment) => /^\d+$/.test(segment) && Number(segment) > MAX_COLUMN_INDEX))
      issues.push({ path: `header.${index}`, message: `"${column}": list index above ${MAX_COLUMN_INDEX}` });
    else if (columns.indexOf(column) !== index)
      issues.push({ path: `header.${index}`, message: `"${column}" appears twice` });
  });
  if (!columns.includes("id")) issues.push({ path: "header", message: "needs an id column" });
  if (issues.length > 0) throw new RelayError("validation_failed", "the CSV header row is not valid", issues);
  return columns;
}

/**
 * `tiers.0.name` → {tiers: [{name}]}: numeric segments make arrays. The header is checked first;
 * this still refuses reserved names and reads own properties only, so that no path can reach
 * Object.prototype (`__proto__.x` once polluted every object in the isolate).
 */
function setPath(target: Record<string, unknown>, path: string, value: string) {
  const segments = path.split(".");
  if (segments.some(isPrototypeKey)) throw new Error(`refusing to set the reserved path ${path}`);
  let current: Record<string, unknown> | unknown[] = target;
  segments.forEach((segment, index) => {
    const key = Array.isArray(current) ? Number(segment) : segment;
    const container = current as Record<string | number, unknown>;
    if (index === segments.length - 1) {
      container[key] = value;
      return;
    }
    const existing = Object.hasOwn(container, key) ? container[key] : undefined;
    const next =
      typeof existing === "object" && existing !== null ? existing : /^\d+$/.test(segments[index + 1]!) ? [] : {};
    container[key] = next;
    current = next as Record<string, unknown> | unknown[];
  });
}

async function* csvRows(lines: AsyncIterable<Line>): AsyncGenerator<RowResult> {
  let columns: string[] | undefined;
  for await (const record of csvRecords(lines, MAX_LINE_CHARS)) {
    if ("error" in record) {
      if (!columns)
        throw new RelayError("validation_failed", "the CSV header row is not valid", [
          { path: "header", message: record.error },
        ]);
      yield { line: record.line, reason: record.error };
      continue;
    }
    if (!columns) {
      columns = headerOf(record.fields);
      continue;
    }
    if (record.fields.length > columns.length) {
      yield {
        line: record.line,
        reason: `has ${record.fields.length} cells; the header has ${columns.length} columns`,
      };
      continue;
    }
    const customer: Record<string, unknown> = {};
    // Cells are trimmed and empty ones left out, as spreadsheets pad and blank them freely.
    record.fields.forEach((cell, index) => {
      const text = cell.trim();
      if (text !== "") setPath(customer, columns![index]!, text);
    });
    yield validateRow(record.line, customer);
  }
  if (!columns)
    throw new RelayError("validation_failed", "the CSV has no header row", [
      { path: "header", message: "needs a header row with an id column" },
    ]);
}

// ---- writing ---------------------------------------------------------------------------------

interface Pending {
  /** Latest row per customer id: a later line for the same customer wins. */
  rows: Map<string, Row>;
  /** Rows replaced by a later line of the same batch (counted as updates). */
  superseded: number;
}

async function flush(deps: ImportDeps, pending: Pending, summary: ImportSummary) {
  if (pending.rows.size === 0) return;
  const now = deps.now();
  const rows = [...pending.rows.values()].map(({ customer }) => mirrorRow(customer.id, customer, now));
  const existing = await upsertCustomersReportingExisting(deps.db, rows);
  summary.updated += existing.size + pending.superseded;
  summary.imported += rows.length - existing.size;
  pending.rows.clear();
  pending.superseded = 0;
}

/** As the mirror's hard-ID trigger reads it: trimmed text, so blanks count as missing. */
const hasValue = (value: unknown) => value !== undefined && value !== null && String(value).trim() !== "";

export async function importCustomers(
  deps: ImportDeps,
  format: ImportFormat,
  body: ReadableStream<Uint8Array>,
  options: ImportOptions = {},
): Promise<ImportSummary> {
  const maxRows = options.maxRows ?? MAX_IMPORT_ROWS;
  const summary: ImportSummary = {
    imported: 0,
    updated: 0,
    rejected: [],
    rejectedCount: 0,
    warnings: [],
    warningCount: 0,
    total: 0,
  };
  // Read once: the hard ID is locked once set, so it cannot change under a running import.
  const hardIdField = (await readMapping(deps.db)).hardId?.loyaltyField;
  const pending: Pending = { rows: new Map(), superseded: 0 };
  const lines = readLines(body, MAX_LINE_CHARS, options.maxBytes ?? MAX_IMPORT_BYTES);
  const rows = format === "csv" ? csvRows(lines) : ndjsonRows(lines);
  const rest = (line: number) =>
    `send the rest from line ${line}${format === "csv" ? " (with the header row)" : ""} in another request`;

  try {
    for await (const result of rows) {
      if (summary.total === maxRows) {
        summary.truncated = {
          nextLine: result.line,
          message: `at most ${maxRows} rows are read per request; ${rest(result.line)}`,
        };
        break;
      }
      summary.total++;
      if ("reason" in result) {
        summary.rejectedCount++;
        if (summary.rejected.length < MAX_REPORTED_REJECTIONS)
          summary.rejected.push({ line: result.line, reason: result.reason });
        continue;
      }
      if (hardIdField !== undefined && !hasValue(readPath(result.customer, hardIdField))) {
        summary.warningCount++;
        if (summary.warnings.length < MAX_REPORTED_REJECTIONS)
          summary.warnings.push({
            line: result.line,
            message: `no ${hardIdField} value; this customer can't be matched in Bloomreach until it has one`,
          });
      }
      if (pending.rows.has(result.customer.id)) pending.superseded++;
      pending.rows.set(result.customer.id, result);
      if (pending.rows.size >= FLUSH_ROWS) await flush(deps, pending, summary);
    }
  } catch (error) {
    // A streamed upload without a declared length can only be cut where it crosses the limit:
    // like the row limit, what was read in full is kept and the answer says where to resume.
    if (!(error instanceof UploadTooLargeError)) throw error;
    summary.truncated = {
      nextLine: error.nextLine,
      message: `at most ${error.maxBytes} bytes are read per request; ${rest(error.nextLine)}`,
    };
  }
  await flush(deps, pending, summary);
  return summary;
}
