/**
 * Reads the webhook body: JSON, or Antavo's legacy URL-encoded form with bracket keys. Anything else
 * is 415; unparseable text is 400 `invalid_body`. Size is limited before this runs. The parsed body
 * is held to the input limits (DESIGN 4.1 "Limits", invariant 8) here, before the schema, the
 * normaliser or the dedupe hash (which is recursive) read it.
 */
import { BracketFormError, parseBracketForm } from "../../lib/bracket-form";
import { RelayError } from "../../lib/errors";
import { inputIssues, type PathSegment } from "../../lib/input-limits";

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase();
}

/**
 * Property names become Bloomreach attribute names, which must be ASCII: the keys of an event's
 * `data` and of its customer object. Keys nested deeper are part of a property's value (Bloomreach
 * stores an object value as sent), so any well-formed name is fine there.
 */
function asciiKeysAt(path: readonly PathSegment[]): boolean {
  const event = path.length === 3 && path[0] === "events" && typeof path[1] === "number" ? path.slice(2) : path;
  return event.length === 1 && (event[0] === "data" || event[0] === "customer");
}

function parseText(type: string, text: string): unknown {
  if (type === "application/json" || type.endsWith("+json")) {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new RelayError("invalid_body", `the body is not valid JSON: ${(error as Error).message}`, [
        { path: "$", message: "malformed JSON" },
      ]);
    }
  }
  if (type === "application/x-www-form-urlencoded") {
    try {
      return parseBracketForm(text);
    } catch (error) {
      if (error instanceof BracketFormError)
        throw new RelayError(error.limit ? "validation_failed" : "invalid_body", error.message, [
          { path: error.path, message: error.limit ? error.message : "malformed form field" },
        ]);
      throw error;
    }
  }
  throw new RelayError(
    "unsupported_media_type",
    `content type "${type || "none"}" is not accepted; send application/json or application/x-www-form-urlencoded`,
  );
}

/** `asciiKeys`: where property names must be ASCII (Antavo's webhook: where they become Bloomreach names). */
export function parseWebhookBody(
  contentType: string | undefined,
  text: string,
  asciiKeys: (path: readonly PathSegment[]) => boolean = asciiKeysAt,
): unknown {
  const body = parseText(mediaType(contentType), text);
  const issues = inputIssues(body, { asciiKeysAt: asciiKeys });
  if (issues.length > 0) throw new RelayError("validation_failed", "the webhook body exceeds the input limits", issues);
  return body;
}
