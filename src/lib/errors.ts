/**
 * The closed set of error codes the relay answers with, mapped to HTTP status in one place, and the
 * one error body shape: {"error": {code, message, issues?, requestId}}.
 */
export const ERROR_STATUS = {
  validation_failed: 400,
  invalid_body: 400,
  /** A changed vendor host needs its secret again, so a stored secret never travels to a new host. */
  secret_required: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  hard_id_locked: 409,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  not_configured: 422,
  /** A Bloomreach event type no inbound rule covers (DESIGN 4.4). */
  no_rule: 422,
  upstream_failed: 502,
  unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorIssue {
  path: string;
  message: string;
}

export class RelayError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues?: ErrorIssue[],
  ) {
    super(message);
  }
  get status() {
    return ERROR_STATUS[this.code];
  }
}

export function errorBody(code: ErrorCode, message: string, requestId: string, issues?: ErrorIssue[]) {
  return { error: { code, message, ...(issues && issues.length > 0 ? { issues } : {}), requestId } };
}

/** Formats a path array from zod/valibot as `events.3.customer.email` (`$` for the root). */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? "$" : path.map(String).join(".");
}
