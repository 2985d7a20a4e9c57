/**
 * One outbound HTTP call as a value, for the vendor clients: a response (status, headers, body
 * text) or a failure (network error or timeout), never an exception. The timeout covers reading
 * the body too, since a stalled body is a stalled call. Failure text passes through `redact` so a
 * secret echoed in an error message never leaves the client. Redirects are not followed: a vendor
 * host whose base URL was checked must not bounce the call (and its credentials) to one that was not.
 * At most MAX_ANSWER_BYTES of an answer are read: a vendor answer is untrusted input too, and a
 * longer one is cut there (it then fails to parse and is treated as unreadable by the client).
 */

/** Far above any real answer (a 50-command batch result, one customer object). */
export const MAX_ANSWER_BYTES = 1024 * 1024;

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const room = maxBytes - bytes;
    bytes += value.byteLength;
    text += decoder.decode(value.byteLength > room ? value.subarray(0, room) : value, { stream: true });
    if (bytes >= maxBytes) {
      await reader.cancel().catch(() => undefined);
      break;
    }
  }
  return text + decoder.decode();
}
export type Exchange =
  | { kind: "response"; status: number; headers: Headers; text: string }
  | { kind: "failed"; error: string };

export async function exchange(
  fetchFn: typeof fetch,
  url: string,
  init: RequestInit,
  timeoutMs: number,
  redact: (text: string) => string,
): Promise<Exchange> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`timed out after ${timeoutMs} ms`));
  }, timeoutMs);
  try {
    const response = await fetchFn(url, { ...init, redirect: "manual", signal: controller.signal });
    const text = await readCapped(response, MAX_ANSWER_BYTES);
    return { kind: "response", status: response.status, headers: response.headers, text };
  } catch (err) {
    if (timedOut) return { kind: "failed", error: `timeout: no answer within ${timeoutMs} ms` };
    return {
      kind: "failed",
      error: redact(`network error: ${err instanceof Error ? err.message || err.name : String(err)}`),
    };
  } finally {
    clearTimeout(timer);
  }
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Replaces every occurrence of the given secrets (empty ones ignored). */
export function redactor(...secrets: string[]): (text: string) => string {
  const present = secrets.filter((s) => s.length > 0);
  return (text) => present.reduce((out, secret) => out.split(secret).join("[redacted]"), text);
}
