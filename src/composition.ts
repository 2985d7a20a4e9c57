/**
 * The composition root: the one place that reads `env`. Transports call `createDeps(env)` and hand
 * the result to services; services never see `env` or a Hono context.
 */
import { z } from "zod";
import { type Database, openDatabase } from "./db/client";
import type { QueueMessage } from "./domain/queue-message";
import type { CustomerSync } from "./durable/customer-sync";
import type { RateLimiter } from "./durable/rate-limiter";
import { importEncryptionKey } from "./lib/secrets";
import { type CustomerStore, customerStore, type DeliveryLog, deliveryLog } from "./services/delivery/ports";

const optionalSecret = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() !== "" ? v : undefined));

const EnvConfigSchema = z.object({
  ADMIN_TOKEN: optionalSecret,
  ENCRYPTION_KEY: optionalSecret,
  WEBHOOK_BASIC_USER: optionalSecret,
  WEBHOOK_BASIC_PASSWORD: optionalSecret,
  WEBHOOK_JWT_SECRET: optionalSecret,
  WEBHOOK_JWT_PUBLIC_KEY: optionalSecret,
  BLOOMREACH_WEBHOOK_TOKEN: optionalSecret,
  ENVIRONMENT: z.string().default("local"),
});

export interface WebhookAuthConfig {
  basic?: { user: string; password: string };
  /** HS256 shared secret. */
  jwtSecret?: string;
  /** RS256 public key (PEM SPKI) of Antavo's signing key. */
  jwtPublicKey?: string;
}

export interface RelayDeps {
  environment: string;
  db: Database;
  queue: Queue<QueueMessage>;
  /** Backfill pages only (their own queue, so they never wait behind or hold up live events). */
  backfillQueue: Queue<QueueMessage>;
  /** The customers' CustomerSync objects, as the delivery stages use them. */
  customerStore: CustomerStore;
  /** Where the delivery stages write the log (with the mirror and the workflows' last runs). */
  deliveryLog: DeliveryLog;
  rateLimiter: DurableObjectNamespace<RateLimiter>;
  /** Outbound HTTP for the vendor clients (tests route it to fakes). */
  fetch: typeof fetch;
  /** Current time in Unix seconds. */
  now: () => number;
  adminToken?: string;
  webhookAuth: WebhookAuthConfig;
  /** The Bearer token of `POST /webhooks/bloomreach` (DESIGN 4.4); unset: every call is refused. */
  bloomreachWebhookToken?: string;
  /** The AES-GCM key for secrets at rest; throws `not_configured` when ENCRYPTION_KEY is missing. */
  encryptionKey: () => Promise<CryptoKey>;
}

const keyCache = new Map<string, Promise<CryptoKey>>();
// The env object lives as long as the isolate: parse it and open clients once, not per request.
const depsCache = new WeakMap<Env, RelayDeps>();

export function createDeps(env: Env): RelayDeps {
  let deps = depsCache.get(env);
  if (!deps) {
    deps = buildDeps(env);
    depsCache.set(env, deps);
  }
  return deps;
}

function buildDeps(env: Env): RelayDeps {
  const config = EnvConfigSchema.parse(env);
  const basic =
    config.WEBHOOK_BASIC_USER && config.WEBHOOK_BASIC_PASSWORD
      ? { user: config.WEBHOOK_BASIC_USER, password: config.WEBHOOK_BASIC_PASSWORD }
      : undefined;
  const db = openDatabase(env.DB);
  return {
    environment: config.ENVIRONMENT,
    db,
    deliveryLog: deliveryLog(db),
    queue: env.EVENTS_QUEUE as Queue<QueueMessage>,
    backfillQueue: env.BACKFILL_QUEUE as Queue<QueueMessage>,
    customerStore: customerStore(env.CUSTOMER_SYNC as unknown as DurableObjectNamespace<CustomerSync>),
    rateLimiter: env.RATE_LIMITER as unknown as DurableObjectNamespace<RateLimiter>,
    fetch: (input, init) => fetch(input, init),
    now: () => Math.floor(Date.now() / 1000),
    adminToken: config.ADMIN_TOKEN,
    webhookAuth: { basic, jwtSecret: config.WEBHOOK_JWT_SECRET, jwtPublicKey: config.WEBHOOK_JWT_PUBLIC_KEY },
    bloomreachWebhookToken: config.BLOOMREACH_WEBHOOK_TOKEN,
    encryptionKey: () => {
      const raw = config.ENCRYPTION_KEY;
      if (!raw) return Promise.reject(new Error("ENCRYPTION_KEY is not set"));
      let key = keyCache.get(raw);
      if (!key) {
        key = importEncryptionKey(raw);
        keyCache.set(raw, key);
      }
      return key;
    },
  };
}
