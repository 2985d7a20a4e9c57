/**
 * JWT verification for Antavo's Trusted-site JWT authentication, on `jose`. Antavo signs with HS256
 * (a shared secret) or RS256 (its private key; we hold the SPKI public key). Only the algorithms
 * whose key is configured are accepted, and each algorithm is bound to its own key, so an HS256
 * token "signed" with the public key's PEM text is refused (algorithm confusion). `alg: none`,
 * unknown `crit` extensions and every other algorithm are refused before any signature work.
 *
 * jose is lenient in two places we are not: it decodes base64url loosely (padding bits that differ
 * give the same bytes, so one token has many spellings), and it accepts `exp: 1e400` (JSON.parse
 * makes that Infinity, which is a number). Both are checked here.
 */
import { decodeProtectedHeader, errors, importSPKI, type JWTPayload, jwtVerify } from "jose";
import { fromBase64Url, toBase64, utf8 } from "./encoding";
import { type Logger, logger } from "./logger";

export interface JwtKeys {
  /** HS256 shared secret (WEBHOOK_JWT_SECRET). */
  hs256Secret?: string;
  /** RS256 public key, PEM SPKI (WEBHOOK_JWT_PUBLIC_KEY). */
  rs256PublicKey?: string;
}

export type JwtCheck = { ok: true; claims: JWTPayload } | { ok: false; reason: string };

const LEEWAY_SECONDS = 60;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const NUMERIC_DATES = ["exp", "nbf", "iat"] as const;

// Keys are imported once per isolate: the secrets do not change while it lives.
const importedKeys = new Map<string, Promise<CryptoKey>>();

function cachedKey(cacheKey: string, load: () => Promise<CryptoKey>): Promise<CryptoKey> {
  let key = importedKeys.get(cacheKey);
  if (!key) {
    key = load();
    importedKeys.set(cacheKey, key);
  }
  return key;
}

const hs256Key = (secret: string) =>
  cachedKey(`HS256\n${secret}`, () =>
    crypto.subtle.importKey("raw", utf8(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]),
  );

const rs256Key = (pem: string) =>
  cachedKey(`RS256\n${pem}`, () => importSPKI(pem.replace(/\\n/g, "\n").trim(), "RS256") as Promise<CryptoKey>);

const toBase64Url = (bytes: Uint8Array) => toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** True when the segment is the one canonical base64url spelling of its bytes (no stray bits). */
function isCanonicalBase64Url(segment: string): boolean {
  try {
    return toBase64Url(fromBase64Url(segment)) === segment;
  } catch {
    return false;
  }
}

function algorithmOf(token: string): string {
  try {
    return String(decodeProtectedHeader(token).alg);
  } catch {
    return "unknown";
  }
}

function reasonFor(error: unknown, token: string): string {
  if (error instanceof errors.JOSEAlgNotAllowed) return `algorithm ${algorithmOf(token)} is not accepted`;
  if (error instanceof errors.JWTExpired) return "token expired";
  if (error instanceof errors.JWTClaimValidationFailed)
    return error.claim === "nbf" ? "token not yet valid" : `claim ${error.claim} is invalid`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return "bad signature";
  if (error instanceof errors.JOSENotSupported) return "unsupported header (crit or algorithm)";
  return "malformed token";
}

/** `log` is the request's logger, told when the configured key itself is unusable (an operator error). */
export async function verifyJwt(
  token: string,
  keys: JwtKeys,
  nowSeconds: number,
  log: Logger = logger,
): Promise<JwtCheck> {
  const algorithms = [...(keys.hs256Secret ? ["HS256"] : []), ...(keys.rs256PublicKey ? ["RS256"] : [])];
  if (algorithms.length === 0) return { ok: false, reason: "no JWT key is configured" };
  if (!COMPACT_JWS.test(token) || !token.split(".").every((part) => part === "" || isCanonicalBase64Url(part)))
    return { ok: false, reason: "malformed token" };

  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(
      token,
      // jose checks `alg` against the allow-list before it asks for a key, so alg is one of ours here.
      ({ alg }) => (alg === "RS256" ? rs256Key(keys.rs256PublicKey ?? "") : hs256Key(keys.hs256Secret ?? "")),
      { algorithms, clockTolerance: LEEWAY_SECONDS, currentDate: new Date(nowSeconds * 1000) },
    ));
  } catch (error) {
    if (error instanceof errors.JOSEError) return { ok: false, reason: reasonFor(error, token) };
    // Not jose's verdict on the token: the configured public key itself does not import.
    log.error("WEBHOOK_JWT_PUBLIC_KEY is not a valid SPKI PEM", { code: "not_configured" });
    return { ok: false, reason: "the relay's JWT key is not usable" };
  }
  // jose requires these to be numbers; Infinity (`1e400` in the JSON) is one, and would never expire.
  for (const claim of NUMERIC_DATES)
    if (claim in claims && !Number.isFinite(claims[claim])) return { ok: false, reason: `claim ${claim} is invalid` };
  return { ok: true, claims };
}
