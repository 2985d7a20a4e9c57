/**
 * Turning a submitted HTML form into the same input the JSON API takes, and a service's failure
 * back into a FormState. Forms post bracket-form names (`fields[0][remoteField]`), decoded by the
 * webhook's own bracket-form parser, so both transports share one notion of nested keys.
 */
import type { z } from "zod";
import { BracketFormError, parseBracketForm } from "../../lib/bracket-form";
import { RelayError } from "../../lib/errors";
import { CSRF_FIELD, type FormState } from "../../ui/form";
import { zodIssues } from "../validation";
import type { UiContext } from "./context";
import { bodyText } from "./csrf";

export type FormValues = Record<string, unknown>;

export async function readForm(c: UiContext): Promise<FormValues> {
  try {
    const values = parseBracketForm(await bodyText(c));
    delete values[CSRF_FIELD];
    return values;
  } catch (error) {
    if (error instanceof BracketFormError) throw new RelayError("invalid_body", error.message);
    throw error;
  }
}

/** Trimmed text, or "" for anything that is not a string. */
export const str = (value: unknown) => (typeof value === "string" ? value.trim() : "");

/** Blank optional inputs mean "not given", as an absent JSON key would. */
export const optional = (value: unknown) => (str(value) === "" ? undefined : str(value));

/** `12` → 12; blank → undefined; anything else is passed on as text for the schema to refuse. */
export function optionalNumber(value: unknown): number | string | undefined {
  const text = str(value);
  if (text === "") return undefined;
  return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
}

/** Repeated rows arrive as a (possibly sparse) array: keep the rows that have anything in them. */
export function rowsOf(value: unknown, keys: readonly string[]): Record<string, string>[] {
  const list = Array.isArray(value) ? value : value && typeof value === "object" ? Object.values(value) : [];
  return list
    .filter((row): row is Record<string, unknown> => row !== null && typeof row === "object")
    .map((row) => Object.fromEntries(keys.map((key) => [key, str(row[key])])))
    .filter((row) => keys.some((key) => row[key] !== ""));
}

/** `Add a row` / `Remove` submit buttons (the no-JS path) edit the form without saving it. */
export function rowEdit(values: FormValues): { add: boolean; remove?: number } | undefined {
  if (values._add !== undefined) return { add: true };
  if (typeof values._remove === "string" && /^\d+$/.test(values._remove))
    return { add: false, remove: Number(values._remove) };
  return undefined;
}

export type Parsed<T> = { ok: true; data: T } | { ok: false; state: FormState };

export function parseWith<S extends z.ZodType>(schema: S, input: unknown, values: unknown): Parsed<z.infer<S>> {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, data: result.data };
  return { ok: false, state: { values, issues: zodIssues(result.error), message: "Some values need a change." } };
}

/** An expected service refusal (validation, lock, not configured) becomes a form to show again. */
export function refusal(error: unknown, values: unknown): { state: FormState; status: RelayError["status"] } {
  if (!(error instanceof RelayError) || error.status >= 500) throw error;
  return { state: { values, issues: error.issues ?? [], message: error.message }, status: error.status };
}

/** Runs a service call; on an expected refusal answers the form state instead of throwing. */
export async function attempt<T>(
  values: unknown,
  run: () => Promise<T>,
): Promise<{ ok: true; data: T } | { ok: false; state: FormState; status: RelayError["status"] }> {
  try {
    return { ok: true, data: await run() };
  } catch (error) {
    return { ok: false, ...refusal(error, values) };
  }
}

export const redirectWith = (c: UiContext, path: string, notice?: string) =>
  c.redirect(notice ? `${path}${path.includes("?") ? "&" : "?"}notice=${notice}` : path, 303);

/** Scripts ask for JSON (progress loops, live preview); forms without JS get a page. */
export const wantsJson = (c: UiContext) => (c.req.header("accept") ?? "").includes("application/json");
