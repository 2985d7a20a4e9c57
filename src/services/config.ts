/**
 * Configuration use cases behind `/api/connection`, `/api/antavo`, `/api/mapping`, `/api/settings`.
 * Secrets are encrypted before they reach D1 and are never part of a returned view.
 */

import type { BloomreachCredentials } from "../bloomreach/client";
import type { Database } from "../db/client";
import {
  type AntavoConnectionRow,
  type BloomreachConnectionRow,
  readAntavoConnection,
  readBloomreachConnection,
  readDeliveryConfig,
  readMapping,
  readSettings,
  setDeliveryState,
  writeAntavoConnection,
  writeBloomreachConnection,
  writeMapping,
  writeSettings,
} from "../db/config-queries";
import type { Settlement } from "../db/settlement-queries";
import { listActiveWorkflows } from "../db/workflow-queries";
import {
  type AntavoConnectionInput,
  type BloomreachConnectionInput,
  type Mapping,
  type Settings,
  type SettingsInput,
  TUNABLE_SETTINGS,
  type Tunables,
} from "../domain/config";
import { checkVendorBaseUrl, originOf, type Vendor } from "../domain/outbound-url";
import type { PlanConfig } from "../domain/plan-event";
import { RelayError } from "../lib/errors";
import { decryptSecret, encryptSecret } from "../lib/secrets";

export interface ConfigDeps {
  db: Database;
  now: () => number;
  encryptionKey: () => Promise<CryptoKey>;
}

// The column each secret lives in doubles as its AES-GCM additional data.
const BLOOMREACH_SECRET = "bloomreach_connection.api_secret";
const ANTAVO_SECRET = "antavo_connection.api_secret";

async function key(deps: ConfigDeps): Promise<CryptoKey> {
  try {
    return await deps.encryptionKey();
  } catch (error) {
    throw new RelayError("not_configured", `secrets cannot be stored or read: ${(error as Error).message}`);
  }
}

export interface ConnectionDeps extends ConfigDeps {
  /** ENVIRONMENT: loopback vendor hosts (the local sandbox) are accepted only in `local`. */
  environment: string;
}

/** The submitted base URL as a normalised origin, or a 400 on `baseUrl` saying why it is refused. */
function acceptedOrigin(deps: ConnectionDeps, vendor: Vendor, baseUrl: string): string {
  const checked = checkVendorBaseUrl(vendor, baseUrl, { environment: deps.environment });
  if (!checked.ok) {
    throw new RelayError("validation_failed", `the base URL is not accepted: it ${checked.message}`, [
      { path: "baseUrl", message: checked.message },
    ]);
  }
  return checked.origin;
}

/**
 * A stored secret is kept only while the host stays the same: otherwise saving a new base URL
 * without the secret would hand the stored one to whatever host the URL now names.
 */
async function sealSecret(
  deps: ConfigDeps,
  plaintext: string | undefined,
  existing: { baseUrl: string; apiSecretEnc: string | null } | undefined,
  origin: string,
  context: string,
) {
  if (plaintext !== undefined) return encryptSecret(await key(deps), plaintext, context);
  if (!existing?.apiSecretEnc) {
    throw new RelayError("validation_failed", "the API secret is required the first time", [
      { path: "apiSecret", message: "is required" },
    ]);
  }
  if (originOf(existing.baseUrl) !== origin) {
    throw new RelayError(
      "secret_required",
      "the base URL names another host: enter the API secret again (a stored secret is only sent to the host it was saved for)",
      [{ path: "apiSecret", message: "is required again when the base URL's host changes" }],
    );
  }
  return existing.apiSecretEnc;
}

// ---- Bloomreach connection -------------------------------------------------------------------

export type { BloomreachConnectionInput } from "../domain/config";

export async function getBloomreachConnection(deps: ConfigDeps) {
  const row = await readBloomreachConnection(deps.db);
  if (!row) return { configured: false as const, apiSecretSet: false, deliveryState: "active" };
  return {
    configured: true as const,
    baseUrl: row.baseUrl,
    projectToken: row.projectToken,
    apiKeyId: row.apiKeyId,
    apiSecretSet: Boolean(row.apiSecretEnc),
    deliveryState: row.deliveryState,
    ...(row.pausedReason ? { pausedReason: row.pausedReason, pausedAt: row.pausedAt } : {}),
    updatedAt: row.updatedAt,
  };
}

/** Saving the connection also resumes delivery paused by a 401/403: the admin has fixed it. */
export async function putBloomreachConnection(deps: ConnectionDeps, input: BloomreachConnectionInput) {
  const baseUrl = acceptedOrigin(deps, "bloomreach", input.baseUrl);
  const existing = await readBloomreachConnection(deps.db);
  const apiSecretEnc = await sealSecret(deps, input.apiSecret, existing, baseUrl, BLOOMREACH_SECRET);
  await writeBloomreachConnection(
    deps.db,
    {
      baseUrl,
      projectToken: input.projectToken,
      apiKeyId: input.apiKeyId,
      apiSecretEnc,
      deliveryState: "active",
      pausedReason: null,
      pausedAt: null,
    },
    deps.now(),
  );
  return getBloomreachConnection(deps);
}

export type LoadedBloomreachCredentials = BloomreachCredentials & { paused: boolean; pausedReason?: string };

export async function loadBloomreachCredentials(deps: ConfigDeps): Promise<LoadedBloomreachCredentials | undefined> {
  return bloomreachCredentialsOf(deps, await readBloomreachConnection(deps.db));
}

async function bloomreachCredentialsOf(
  deps: ConfigDeps,
  row: BloomreachConnectionRow | undefined,
): Promise<LoadedBloomreachCredentials | undefined> {
  if (!row?.apiSecretEnc) return undefined;
  return {
    baseUrl: row.baseUrl,
    projectToken: row.projectToken,
    apiKeyId: row.apiKeyId,
    apiSecret: await decryptSecret(await key(deps), row.apiSecretEnc, BLOOMREACH_SECRET),
    paused: row.deliveryState === "paused",
    ...(row.pausedReason ? { pausedReason: row.pausedReason } : {}),
  };
}

export async function pauseBloomreachDelivery(deps: ConfigDeps, reason: string): Promise<void> {
  await setDeliveryState(deps.db, { deliveryState: "paused", pausedReason: reason, pausedAt: deps.now() });
}

export async function resumeBloomreachDelivery(deps: ConfigDeps): Promise<void> {
  await setDeliveryState(deps.db, { deliveryState: "active" });
}

// ---- Antavo API connection -------------------------------------------------------------------

export type { AntavoConnectionInput } from "../domain/config";

export type AntavoCredentials = Required<AntavoConnectionInput>;

export async function getAntavoConnection(deps: ConfigDeps) {
  const row = await readAntavoConnection(deps.db);
  if (!row) return { configured: false as const, apiSecretSet: false };
  return {
    configured: true as const,
    baseUrl: row.baseUrl,
    environment: row.environment,
    apiKey: row.apiKey,
    apiSecretSet: Boolean(row.apiSecretEnc),
    updatedAt: row.updatedAt,
  };
}

export async function putAntavoConnection(deps: ConnectionDeps, input: AntavoConnectionInput) {
  const baseUrl = acceptedOrigin(deps, "antavo", input.baseUrl);
  const existing = await readAntavoConnection(deps.db);
  const apiSecretEnc = await sealSecret(deps, input.apiSecret, existing, baseUrl, ANTAVO_SECRET);
  await writeAntavoConnection(
    deps.db,
    { baseUrl, environment: input.environment, apiKey: input.apiKey, apiSecretEnc },
    deps.now(),
  );
  return getAntavoConnection(deps);
}

export async function loadAntavoCredentials(deps: ConfigDeps): Promise<AntavoCredentials | undefined> {
  return antavoCredentialsOf(deps, await readAntavoConnection(deps.db));
}

async function antavoCredentialsOf(
  deps: ConfigDeps,
  row: AntavoConnectionRow | undefined,
): Promise<AntavoCredentials | undefined> {
  if (!row?.apiSecretEnc) return undefined;
  return {
    baseUrl: row.baseUrl,
    environment: row.environment,
    apiKey: row.apiKey,
    apiSecret: await decryptSecret(await key(deps), row.apiSecretEnc, ANTAVO_SECRET),
  };
}

// ---- Mapping and settings --------------------------------------------------------------------

export const getMapping = (deps: ConfigDeps) => readMapping(deps.db);

/** The hard ID can be set once: changing or removing it answers 409 `hard_id_locked`. */
export async function putMapping(deps: ConfigDeps, mapping: Mapping): Promise<Mapping> {
  const current = await readMapping(deps.db);
  const locked = current.hardId;
  const wanted = mapping.hardId;
  if (locked && (!wanted || wanted.loyaltyField !== locked.loyaltyField || wanted.remoteId !== locked.remoteId)) {
    throw new RelayError(
      "hard_id_locked",
      `the hard ID is already ${locked.loyaltyField} -> ${locked.remoteId} and cannot change (Bloomreach customers are keyed by it)`,
      [{ path: "hardId", message: "is locked" }],
    );
  }
  await writeMapping(deps.db, mapping, deps.now());
  return readMapping(deps.db);
}

export const getSettings = (deps: ConfigDeps) => readSettings(deps.db);

/**
 * Settings for the webhook's hot path, kept per isolate for a few seconds: reading them costs a D1
 * round trip per request otherwise. A change reaches every isolate within SETTINGS_TTL_SECONDS
 * (at once in the isolate that saved it).
 */
export const SETTINGS_TTL_SECONDS = 5;
let settingsCache: { at: number; db: Database; value: Promise<Settings> } | undefined;

export function getSettingsCached(deps: Pick<ConfigDeps, "db" | "now">): Promise<Settings> {
  const now = deps.now();
  if (!settingsCache || settingsCache.db !== deps.db || now - settingsCache.at >= SETTINGS_TTL_SECONDS) {
    const value = readSettings(deps.db);
    settingsCache = { at: now, db: deps.db, value };
    value.catch(() => (settingsCache = undefined));
  }
  return settingsCache.value;
}

export async function putSettings(deps: ConfigDeps, input: SettingsInput): Promise<Settings> {
  const current = await readSettings(deps.db);
  const settings: Settings = {
    // Omitted tunables keep their saved value (readSettings fills in the defaults).
    ...(Object.fromEntries(TUNABLE_SETTINGS.map((name) => [name, input[name] ?? current[name]])) as Tunables),
    asyncSync: input.asyncSync,
    events: input.events.map((e) => ({ action: e.action, remoteEvent: e.remoteEvent ?? e.action })),
  };
  await writeSettings(deps.db, settings, deps.now());
  settingsCache = undefined;
  return readSettings(deps.db);
}

export interface DeliveryContext {
  bloomreach?: LoadedBloomreachCredentials;
  antavo?: AntavoCredentials;
  config: PlanConfig;
  /** The settlement outbox's rows for the customers asked about, for their plan calls to carry. */
  settlements: Settlement[];
}

/** Everything a delivery batch needs before it plans: one D1 round trip (readDeliveryConfig). */
export async function loadDeliveryContext(
  deps: ConfigDeps,
  settlementsFor: readonly string[] = [],
): Promise<DeliveryContext> {
  const { bloomreach, antavo, mapping, settings, workflows, settlements } = await readDeliveryConfig(
    deps.db,
    settlementsFor,
  );
  const [bloomreachCredentials, antavoCredentials] = await Promise.all([
    bloomreachCredentialsOf(deps, bloomreach),
    antavoCredentialsOf(deps, antavo),
  ]);
  return {
    ...(bloomreachCredentials ? { bloomreach: bloomreachCredentials } : {}),
    ...(antavoCredentials ? { antavo: antavoCredentials } : {}),
    config: { mapping, settings, workflows },
    settlements,
  };
}

/** Everything planning needs, read once per batch. */
export async function loadPlanConfig(deps: Pick<ConfigDeps, "db">): Promise<PlanConfig> {
  const [mapping, settings, workflows] = await Promise.all([
    readMapping(deps.db),
    readSettings(deps.db),
    listActiveWorkflows(deps.db),
  ]);
  return { mapping, settings, workflows };
}
