/**
 * Signs Antavo API requests the Escher way (Emarsys' AWS SigV4 variant), as reference/vendor-apis.md
 * describes it. The reference leaves two details open; both follow SigV4/Escher and live in one
 * place each so they are easy to adjust:
 *  - the canonical headers block is `name:value\n` per header, so a blank line precedes the signed
 *    header list (`buildCanonicalRequest`);
 *  - the string to sign's third line is the full credential scope including the short date,
 *    `YYYYMMDD/<env>/api/antavo_request`, the same scope the Authorization credential carries
 *    (`buildStringToSign`).
 * WebCrypto only, so it runs unchanged in Workers.
 */

export const ANTAVO_ALGORITHM = "ANTAVO-HMAC-SHA256";
const KEY_PREFIX = "ANTAVO";
const SIGNED_HEADERS = ["date", "host"] as const;

export interface AntavoSignInput {
  method: string;
  url: string;
  body?: string | Uint8Array;
  apiKey: string;
  apiSecret: string;
  environment: string;
  now: Date;
}

/** The headers to add to the request; a type alias so it is also a `Record<string, string>`. */
export type AntavoSignedHeaders = { date: string; host: string; authorization: string };

export async function signAntavoRequest(input: AntavoSignInput): Promise<AntavoSignedHeaders> {
  const url = new URL(input.url);
  const longDate = formatLongDate(input.now);
  const shortDate = longDate.slice(0, 8);
  const headers = { date: longDate, host: url.host };
  const canonicalRequest = await buildCanonicalRequest(input.method, url, headers, input.body);
  const scope = `${shortDate}/${input.environment}/api/antavo_request`;
  const stringToSign = buildStringToSign(longDate, scope, await sha256Hex(utf8(canonicalRequest)));

  let key: Uint8Array = utf8(`${KEY_PREFIX}${input.apiSecret}`);
  for (const part of [shortDate, input.environment, "api", "antavo_request"]) key = await hmac(key, utf8(part));
  const signature = toHex(await hmac(key, utf8(stringToSign)));

  const authorization =
    `${ANTAVO_ALGORITHM} Credential=${input.apiKey}/${scope}, ` +
    `SignedHeaders=${SIGNED_HEADERS.join(";")}, Signature=${signature}`;
  return { ...headers, authorization };
}

/** `YYYYMMDDTHHMMSSZ` in UTC. */
export function formatLongDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

export async function buildCanonicalRequest(
  method: string,
  url: URL,
  headers: Record<(typeof SIGNED_HEADERS)[number], string>,
  body: string | Uint8Array | undefined,
): Promise<string> {
  const canonicalHeaders = SIGNED_HEADERS.map((name) => `${name}:${headers[name].trim()}\n`).join("");
  return [
    method.toUpperCase(),
    url.pathname || "/",
    canonicalQuery(url.search),
    canonicalHeaders,
    SIGNED_HEADERS.join(";"),
    await sha256Hex(typeof body === "string" ? utf8(body) : (body ?? new Uint8Array())),
  ].join("\n");
}

export function buildStringToSign(longDate: string, scope: string, canonicalRequestHash: string): string {
  return [ANTAVO_ALGORITHM, longDate, scope, canonicalRequestHash].join("\n");
}

/**
 * Pairs RFC 3986-encoded and sorted by key, then value, as SigV4 and Escher do, so the signature
 * does not depend on how the caller ordered or encoded the query.
 */
export function canonicalQuery(search: string): string {
  const raw = search.startsWith("?") ? search.slice(1) : search;
  if (raw === "") return "";
  const pairs = raw
    .split("&")
    .filter((p) => p !== "")
    .map((p) => {
      const eq = p.indexOf("=");
      const key = eq < 0 ? p : p.slice(0, eq);
      const value = eq < 0 ? "" : p.slice(eq + 1);
      return [rfc3986(decodeQueryPart(key)), rfc3986(decodeQueryPart(value))] as const;
    });
  pairs.sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

function decodeQueryPart(part: string): string {
  const spaced = part.replace(/\+/g, " ");
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

async function sha256Hex(data: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", data)));
}

async function hmac(key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, data));
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
