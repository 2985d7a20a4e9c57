/**
 * Secrets at rest and secret comparison.
 * - Stored secrets are AES-256-GCM encrypted with ENCRYPTION_KEY (32 random bytes, base64). The
 *   column name is the additional data, so a ciphertext copied into another column does not decrypt.
 * - Comparisons hash both sides first so that neither length nor content leaks through timing.
 */
import { fromBase64, toBase64, utf8 } from "./encoding";

const VERSION = "v1";

export async function importEncryptionKey(base64Key: string): Promise<CryptoKey> {
  let raw: Uint8Array<ArrayBuffer>;
  try {
    raw = fromBase64(base64Key);
  } catch {
    throw new Error("ENCRYPTION_KEY is not valid base64");
  }
  if (raw.length !== 32) throw new Error("ENCRYPTION_KEY must be 32 bytes, base64 encoded (openssl rand -base64 32)");
  return crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
}

export async function encryptSecret(key: CryptoKey, plaintext: string, context: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: utf8(context) },
    key,
    utf8(plaintext),
  );
  return `${VERSION}:${toBase64(iv)}:${toBase64(new Uint8Array(sealed))}`;
}

export async function decryptSecret(key: CryptoKey, sealed: string, context: string): Promise<string> {
  const [version, iv, data] = sealed.split(":");
  if (version !== VERSION || !iv || !data) throw new Error("unrecognised secret format");
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64(iv), additionalData: utf8(context) },
    key,
    fromBase64(data),
  );
  return new TextDecoder().decode(plain);
}

export async function timingSafeEqualText(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest("SHA-256", utf8(a)),
    crypto.subtle.digest("SHA-256", utf8(b)),
  ]);
  return crypto.subtle.timingSafeEqual(ha, hb);
}

const expectedDigests = new Map<string, Promise<ArrayBuffer>>();

/**
 * The same constant-time comparison against a secret that does not change between requests: the
 * secret's digest is computed once per isolate, so a check costs one digest (the hot webhook path).
 */
export async function matchesSecret(candidate: string, secret: string): Promise<boolean> {
  let expected = expectedDigests.get(secret);
  if (!expected) {
    expected = crypto.subtle.digest("SHA-256", utf8(secret));
    expectedDigests.set(secret, expected);
  }
  const [given, wanted] = await Promise.all([crypto.subtle.digest("SHA-256", utf8(candidate)), expected]);
  return crypto.subtle.timingSafeEqual(given, wanted);
}
