/**
 * Signs Antavo API requests the Escher way (Emarsys' AWS SigV4 variant). Antavo's flavour, as
 * reference/vendor-apis.md confirms it: algorithm prefix `ANTAVO`, vendor key `Antavo`, the long date
 * (`YYYYMMDDTHHMMSSZ`) in the `date` header, credential scope `<environment>/api/antavo_request`.
 *
 * Hand-written on WebCrypto because no Escher library fits Workers: the npm package (`escher-auth`)
 * is built on node:crypto and Node's legacy `url` parser. `escherSign` is a generic Escher signer
 * (any prefix, scope and signed headers) so test/escher-suite.test.ts can run it against Emarsys'
 * published test cases (EscherAuth/test-cases, checked in under test/data/escher/); Antavo's
 * constants live only in `antavoEscherConfig` and `signAntavoRequest`.
 *
 * Canonicalisation follows the reference implementations and that suite:
 *  - path: dot segments resolved and repeated slashes collapsed (`//foo//` -> `/foo/`), percent
 *    escapes kept as given;
 *  - query: split at the first `?` of the raw target, so a `#` there is data, not a fragment;
 *    `+` read as a space, `%XX` decoded (a stray `%` stays literal), then every byte except
 *    `A-Za-z0-9-_.~!*` percent-encoded in upper case, and the `key=value` strings sorted as strings.
 *    The suite leaves `!` and `*` unescaped but escapes `'()` (cases `...-with-printable-characters`,
 *    `...-with-parentheses`), which is what the reference's JavaScript implementation does; the suite
 *    wins over the looser "`!*'()` unescaped" note in vendor-apis.md;
 *  - headers: names lower-cased, values trimmed with runs of whitespace outside double quotes
 *    collapsed, repeated headers joined with `,` in order, sorted by name; a blank line precedes the
 *    signed-header list;
 *  - string to sign: algorithm, long date, `<short date>/<scope>`, hex SHA-256 of the canonical request.
 * It refuses (throws) what would otherwise be signed wrongly without a word: an unknown HTTP method,
 * an empty key, secret or environment, a signed header that is missing, and (in `signAntavoRequest`)
 * a raw `#` in the URL, which fetch would drop as a fragment after the query was signed with it.
 */

export const ANTAVO_ALGORITHM = "ANTAVO-HMAC-SHA256";

/** The methods the reference implementations accept. */
const METHODS = new Set(["OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "PATCH", "CONNECT"]);

export interface EscherConfig {
  /** Prefix of the algorithm id (`<prefix>-HMAC-SHA256`) and of the signing key (`<prefix><secret>`). */
  algoPrefix: string;
  /**
   * Escher's vendor key names the `X-<Vendor>-*` headers and presigned-URL parameters; Antavo signs
   * with the standard `date` and `Authorization` headers and no presigned URLs, so it is carried for
   * completeness only.
   */
  vendorKey: string;
  /** Without the short date, e.g. `<environment>/api/antavo_request`. */
  credentialScope: string;
  accessKeyId: string;
  apiSecret: string;
}

export interface EscherRequest {
  method: string;
  /** Path and query exactly as they go on the wire (`/customers/c1?x=1`); a `#` in it is data. */
  target: string;
  headers: ReadonlyArray<readonly [string, string]>;
  body?: string | Uint8Array;
}

export interface EscherSignature {
  canonicalRequest: string;
  stringToSign: string;
  /** Lower-cased, sorted and `;`-joined, as in the Authorization header. */
  signedHeaders: string;
  authorization: string;
}

/**
 * Signs `request` at `now`. `signedHeaders` are matched case-insensitively and must all be present in
 * `request.headers`; the date header is the caller's business (Escher only checks it is signed).
 */
export async function escherSign(
  request: EscherRequest,
  signedHeaders: readonly string[],
  config: EscherConfig,
  now: Date,
): Promise<EscherSignature> {
  if (config.accessKeyId === "") throw new Error("Escher: the access key id is empty");
  if (config.apiSecret === "") throw new Error("Escher: the API secret is empty");
  const scopeParts = config.credentialScope.split("/");
  if (scopeParts.some((part) => part === "")) {
    throw new Error(`Escher: the credential scope "${config.credentialScope}" has an empty part`);
  }
  const longDate = formatLongDate(now);
  const shortDate = longDate.slice(0, 8);
  const names = normaliseSignedHeaders(signedHeaders);
  const canonicalRequest = await buildCanonicalRequest(request, names);
  const algorithm = `${config.algoPrefix}-HMAC-SHA256`;
  const scope = `${shortDate}/${config.credentialScope}`;
  const stringToSign = buildStringToSign(algorithm, longDate, scope, await sha256Hex(utf8(canonicalRequest)));

  let key: Uint8Array = utf8(`${config.algoPrefix}${config.apiSecret}`);
  for (const part of [shortDate, ...scopeParts]) key = await hmac(key, utf8(part));
  const signature = toHex(await hmac(key, utf8(stringToSign)));

  const signed = names.join(";");
  const authorization = `${algorithm} Credential=${config.accessKeyId}/${scope}, SignedHeaders=${signed}, Signature=${signature}`;
  return { canonicalRequest, stringToSign, signedHeaders: signed, authorization };
}

export function antavoEscherConfig(conn: { environment: string; apiKey: string; apiSecret: string }): EscherConfig {
  if (conn.environment === "" || /[/\s]/.test(conn.environment)) {
    throw new Error(`Antavo signer: the environment "${conn.environment}" is empty or not one path segment`);
  }
  if (conn.apiKey === "") throw new Error("Antavo signer: the API key is empty");
  if (conn.apiSecret === "") throw new Error("Antavo signer: the API secret is empty");
  return {
    algoPrefix: "ANTAVO",
    vendorKey: "Antavo",
    credentialScope: `${conn.environment}/api/antavo_request`,
    accessKeyId: conn.apiKey,
    apiSecret: conn.apiSecret,
  };
}

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

/** Signs `date` and `host`; the caller must send `input.url` unchanged with the returned headers. */
export async function signAntavoRequest(input: AntavoSignInput): Promise<AntavoSignedHeaders> {
  const config = antavoEscherConfig(input);
  if (input.url.includes("#")) {
    throw new Error(
      `Antavo signer: the URL ${input.url} has a raw "#"; encode it as %23 (fetch drops everything after "#")`,
    );
  }
  // What fetch will put on the wire: WHATWG-serialised path and query.
  const url = new URL(input.url);
  const headers = { date: formatLongDate(input.now), host: url.host };
  const { authorization } = await escherSign(
    {
      method: input.method,
      target: `${url.pathname}${url.search}`,
      headers: Object.entries(headers),
      ...(input.body === undefined ? {} : { body: input.body }),
    },
    ["date", "host"],
    config,
    input.now,
  );
  return { ...headers, authorization };
}

/** `YYYYMMDDTHHMMSSZ` in UTC. */
export function formatLongDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

/**
 * Method, canonical path, canonical query, `name:value` per signed header, a blank line, the
 * signed-header list and the hex SHA-256 of the body. `signedHeaders` as `normaliseSignedHeaders` gives them.
 */
export async function buildCanonicalRequest(request: EscherRequest, signedHeaders: readonly string[]): Promise<string> {
  const method = request.method.toUpperCase();
  if (!METHODS.has(method)) throw new Error(`Escher: the request method "${request.method}" is invalid`);
  if (!request.target.startsWith("/")) {
    throw new Error(`Escher: the request target "${request.target}" must be a path (with its query), not a URL`);
  }
  const queryAt = request.target.indexOf("?");
  const path = queryAt < 0 ? request.target : request.target.slice(0, queryAt);
  const query = queryAt < 0 ? "" : request.target.slice(queryAt + 1);
  const body = request.body ?? "";
  return [
    method,
    canonicalPath(path),
    canonicalQuery(query),
    ...canonicalHeaders(request.headers, signedHeaders),
    "",
    signedHeaders.join(";"),
    await sha256Hex(typeof body === "string" ? utf8(body) : body),
  ].join("\n");
}

export function buildStringToSign(
  algorithm: string,
  longDate: string,
  scope: string,
  canonicalRequestHash: string,
): string {
  return [algorithm, longDate, scope, canonicalRequestHash].join("\n");
}

/** Lower-cased, trimmed, de-duplicated and sorted. */
export function normaliseSignedHeaders(names: readonly string[]): string[] {
  return [...new Set(names.map((n) => n.trim().toLowerCase()))].sort();
}

/** Dot segments resolved, repeated slashes collapsed, a trailing slash kept; escapes untouched. */
export function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  const trailingSlash = path.endsWith("/") && segments.length > 0;
  return `/${segments.join("/")}${trailingSlash ? "/" : ""}`;
}

/** The canonical form of a raw query string (a leading `?` is ignored). */
export function canonicalQuery(rawQuery: string): string {
  const raw = rawQuery.startsWith("?") ? rawQuery.slice(1) : rawQuery;
  return raw
    .split("&")
    .filter((param) => param !== "")
    .map((param) => {
      const eq = param.indexOf("=");
      const key = eq < 0 ? param : param.slice(0, eq);
      const value = eq < 0 ? "" : param.slice(eq + 1);
      return `${encodeQueryBytes(decodeQueryPart(key))}=${encodeQueryBytes(decodeQueryPart(value))}`;
    })
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .join("&");
}

function canonicalHeaders(headers: EscherRequest["headers"], signedHeaders: readonly string[]): string[] {
  const values = new Map<string, string[]>();
  for (const [name, value] of headers) {
    const key = name.trim().toLowerCase();
    const list = values.get(key) ?? [];
    list.push(normaliseHeaderValue(value));
    values.set(key, list);
  }
  return signedHeaders.map((name) => {
    const list = values.get(name);
    if (!list) throw new Error(`Escher: the signed header "${name}" is missing from the request`);
    return `${name}:${list.join(",")}`;
  });
}

/** Trimmed; runs of whitespace outside double quotes become one space, quoted text is kept as is. */
function normaliseHeaderValue(value: string): string {
  return value
    .trim()
    .split('"')
    .map((piece, i) => (i % 2 === 1 ? piece : piece.replace(/\s+/g, " ")))
    .join('"');
}

/** `+` is a space, `%XX` a byte, anything else its UTF-8 bytes: bytes, so invalid UTF-8 survives. */
function decodeQueryPart(part: string): Uint8Array {
  const bytes: number[] = [];
  for (let i = 0; i < part.length; i++) {
    const c = part[i] as string;
    if (c === "+") {
      bytes.push(0x20);
    } else if (c === "%" && /^[0-9A-Fa-f]{2}$/.test(part.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(part.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      const code = part.codePointAt(i) as number;
      if (code > 0xffff) i++;
      bytes.push(...utf8(String.fromCodePoint(code)));
    }
  }
  return Uint8Array.from(bytes);
}

const QUERY_SAFE = /^[A-Za-z0-9\-_.~!*]$/;

function encodeQueryBytes(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += b < 0x80 && QUERY_SAFE.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
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
