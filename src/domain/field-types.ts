/**
 * Typed field mappings (DESIGN 4.2): a mapped value goes to Bloomreach as the mapping's type, and a
 * value that cannot take it is left out with a warning instead of being sent as garbage. Form bodies
 * and Antavo's templates (`"score": "{{customer.score}}"`) turn numbers into text, so Antavo's
 * numeric customer fields are numbers unless the mapping says otherwise.
 */
import { ANTAVO_NUMERIC_FIELDS } from "./antavo-fields";
import type { FieldType } from "./config";
import { parseDateOnly, parseEventTime } from "./workflow/calendar";

export type Conversion = { ok: true; value: unknown } | { ok: false; reason: string };

const NUMBER = /^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const TRUE = new Set(["true", "1", "yes"]);
const FALSE = new Set(["false", "0", "no"]);
const NUMERIC_FIELDS = new Set<string>(ANTAVO_NUMERIC_FIELDS);

/** The type a mapping sends: its own, else `number` for Antavo's numeric fields, else as it comes. */
export function effectiveType(mapping: { loyaltyField: string; type?: FieldType }): FieldType | undefined {
  return mapping.type ?? (NUMERIC_FIELDS.has(mapping.loyaltyField) ? "number" : undefined);
}

const refuse = (value: unknown, type: FieldType): Conversion => ({
  ok: false,
  reason: `${JSON.stringify(value)?.slice(0, 60) ?? String(value)} is not a ${type}`,
});

export function convertValue(value: unknown, type: FieldType | undefined): Conversion {
  if (type === undefined || value === null) return { ok: true, value };
  switch (type) {
    case "string":
      if (typeof value === "string") return { ok: true, value };
      if (typeof value === "number" || typeof value === "boolean") return { ok: true, value: String(value) };
      return refuse(value, type);
    case "number": {
      if (typeof value === "number") return Number.isFinite(value) ? { ok: true, value } : refuse(value, type);
      const text = typeof value === "string" ? value.trim() : "";
      return NUMBER.test(text) && Number.isFinite(Number(text))
        ? { ok: true, value: Number(text) }
        : refuse(value, type);
    }
    case "boolean": {
      if (typeof value === "boolean") return { ok: true, value };
      const text = typeof value === "string" || typeof value === "number" ? String(value).trim().toLowerCase() : "";
      if (TRUE.has(text)) return { ok: true, value: true };
      if (FALSE.has(text)) return { ok: true, value: false };
      return refuse(value, type);
    }
    case "date": {
      // A bare birth date is a calendar day: its UTC midnight, so the day never shifts.
      const day = typeof value === "string" ? parseDateOnly(value.trim()) : undefined;
      if (day) return { ok: true, value: Date.UTC(day.year, day.month - 1, day.day) / 1000 };
      const seconds = parseEventTime(value);
      return seconds === undefined ? refuse(value, type) : { ok: true, value: seconds };
    }
  }
}
