/**
 * The one structured logger: a JSON line per entry, `{level, message, ...bindings, ...fields}`,
 * through the console method of its level, which is what Workers Logs (`[observability]` in
 * wrangler.toml) indexes and filters by. A child logger binds the request id (routes, from
 * hono/request-id) or the batch's identity (queue, cron), so every line of one invocation can be
 * found together. No timestamp: Workers Logs and `wrangler tail` stamp each line themselves.
 * `withLogScope` binds fields for everything an invocation runs (through every await, via
 * AsyncLocalStorage from nodejs_compat): the stage modules log through the module logger, and
 * their lines still carry the consumer batch's or the request's identity.
 *
 * It never logs secrets: a field whose key names a credential (apiSecret, authorization, password,
 * token, cookie, api key, ...) is replaced by "[redacted]" at any depth, and an HTTP credential
 * inside any string (`Bearer eyJ...`, `Basic dXN...`) becomes `Bearer [redacted]`. Errors become `{name, message}`, without
 * their stack or cause, which may quote request bodies. Logging never throws.
 */

import { AsyncLocalStorage } from "node:async_hooks";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `bindings` (e.g. `{requestId}`) to every line. */
  child(bindings: LogFields): Logger;
}

/** Where a line goes: the console method of its level by default (tests pass a collector). */
export type LogSink = (level: LogLevel, line: string) => void;

export const REDACTED = "[redacted]";

const SECRET_KEY = /secret|passw(or)?d|passwd|token|authori[sz]ation|cookie|api[-_]?key|private[-_]?key|credential/i;
/** `Bearer <token>` / `Basic <credentials>` anywhere in a string (8+ token characters: not prose). */
const CREDENTIAL = /\b(bearer|basic)(\s+)[A-Za-z0-9._~+/-]{8,}=*/gi;
const MAX_DEPTH = 8;

const consoleSink: LogSink = (level, line) => {
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else if (level === "debug") console.debug(line);
  else console.log(line);
};

/** A copy of `value` safe to log: secrets redacted, errors reduced, cycles and depth cut. */
export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === "string") return value.replace(CREDENTIAL, `$1$2${REDACTED}`);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "function" || typeof value === "symbol") return undefined;
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (seen.has(value)) return "[circular]";
  if (depth >= MAX_DEPTH) return "[truncated]";
  seen.add(value);
  const out = Array.isArray(value)
    ? value.map((item) => redact(item, depth + 1, seen))
    : Object.fromEntries(
        Object.entries(value).map(([key, item]) => [
          key,
          SECRET_KEY.test(key) ? REDACTED : redact(item, depth + 1, seen),
        ]),
      );
  seen.delete(value);
  return out;
}

const scope = new AsyncLocalStorage<LogFields>();

/** Runs `run` with `bindings` on every line logged inside it (scopes nest; the inner field wins). */
export function withLogScope<T>(bindings: LogFields, run: () => T): T {
  return scope.run({ ...scope.getStore(), ...bindings }, run);
}

function line(level: LogLevel, message: string, bindings: LogFields, fields: LogFields | undefined): string {
  try {
    // level and message come first and are never overridden by a field of the same name.
    const { level: _, message: __, ...rest } = redact({ ...scope.getStore(), ...bindings, ...fields }) as LogFields;
    return JSON.stringify({ level, message: redact(message), ...rest });
  } catch (error) {
    return JSON.stringify({ level, message: String(message), logError: errorMessage(error) });
  }
}

export function createLogger(bindings: LogFields = {}, sink: LogSink = consoleSink): Logger {
  const write = (level: LogLevel) => (message: string, fields?: LogFields) =>
    sink(level, line(level, message, bindings, fields));
  return {
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    child: (more) => createLogger({ ...bindings, ...more }, sink),
  };
}

/** The process-wide logger; request- and batch-scoped code uses a child of it. */
export const logger: Logger = createLogger();

/** An error's message for a log field, whatever was thrown. */
export const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));
