import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { TEST_RS256_PUBLIC_KEY } from "./support/jwt-keys";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Secrets the tests run with; test/support/env.ts exports the same values for assertions. */
export const testSecrets = {
  ADMIN_TOKEN: "test-admin-token",
  ENCRYPTION_KEY: "dGVzdC1vbmx5LWVuY3J5cHRpb24ta2V5LTMyLWJ5dGU=",
  WEBHOOK_BASIC_USER: "antavo",
  WEBHOOK_BASIC_PASSWORD: "webhook-password",
  WEBHOOK_JWT_SECRET: "webhook-jwt-secret",
  WEBHOOK_JWT_PUBLIC_KEY: TEST_RS256_PUBLIC_KEY,
  BLOOMREACH_WEBHOOK_TOKEN: "test-bloomreach-token",
};

export default defineConfig(async () => {
  const migrations = await readD1Migrations(`${root}/migrations`);
  return {
    root,
    plugins: [
      cloudflareTest({
        wrangler: { configPath: `${root}/wrangler.toml` },
        miniflare: {
          bindings: { ...testSecrets, TEST_MIGRATIONS: migrations },
          // Tests drive the consumer themselves (createMessageBatch/getQueueResult) with injected time,
          // so what ingest sends goes to a queue nobody consumes instead of a background consumer.
          queueProducers: {
            EVENTS_QUEUE: { queueName: "relay-events-under-test" },
            BACKFILL_QUEUE: { queueName: "relay-backfill-under-test" },
          },
        },
      }),
    ],
    test: {
      include: ["test/**/*.test.ts"],
      exclude: ["test/browser/**"],
      setupFiles: ["test/support/setup.ts"],
      // The relay's info lines (one per delivery batch) would bury the warnings and errors that matter
      // when a test fails; tests that assert on log lines read them through their own spies.
      onConsoleLog: (log: string) => !log.startsWith('{"level":"info"'),
    },
  };
});
