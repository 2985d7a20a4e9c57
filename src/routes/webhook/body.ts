/**
 * Reads the webhook body: JSON, or Antavo's legacy URL-encoded form with bracket keys. Anything else
 * is 415; unparseable text is 400 `invalid_body`. Size is limited before this runs.
 */
import { BracketFormError, parseBracketForm } from "../../lib/bracket-form";
import { RelayError } from "../../lib/errors";

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase();
}

export function parseWebhookBody(contentType: string | undefined, text: string): unknown {
  const type = mediaType(contentType);
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
        throw new RelayError("invalid_body", error.message, [{ path: error.key, message: "malformed form field" }]);
      throw error;
    }
  }
  throw new RelayError(
    "unsupported_media_type",
    `content type "${type || "none"}" is not accepted; send application/json or application/x-www-form-urlencoded`,
  );
}
