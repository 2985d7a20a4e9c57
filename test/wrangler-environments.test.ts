import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { MAX_DELIVERY_ATTEMPTS } from "../src/domain/retry-policy";
import wranglerToml from "../wrangler.toml?raw";

type Section = Record<string, any>;
const config = parse(wranglerToml) as Section;
const environments: Record<string, Section> = { local: config, ...(config.env as Record<string, Section>) };

/** Every binding name an environment declares, by kind; wrangler does not inherit these. */
function bindingNames(env: Section) {
  return {
    d1: (env.d1_databases ?? []).map((d: Section) => d.binding).sort(),
    queueProducers: (env.queues?.producers ?? []).map((q: Section) => q.binding).sort(),
    queueConsumers: (env.queues?.consumers ?? []).length,
    durableObjects: (env.durable_objects?.bindings ?? []).map((d: Section) => `${d.name}:${d.class_name}`).sort(),
    crons: env.triggers?.crons ?? [],
    vars: Object.keys(env.vars ?? {}).sort(),
  };
}

describe("wrangler.toml environments", () => {
  it("declares staging and production", () => {
    expect(Object.keys(environments).sort()).toEqual(["local", "production", "staging"]);
  });

  it("gives every environment the same bindings, crons and vars", () => {
    const local = bindingNames(config);
    expect(local.d1).toEqual(["DB"]);
    expect(local.durableObjects).toEqual(["CUSTOMER_SYNC:CustomerSync", "RATE_LIMITER:RateLimiter"]);
    for (const [name, env] of Object.entries(environments)) {
      expect(bindingNames(env), name).toEqual(local);
    }
  });

  it("gives every events consumer a dead-letter queue and the retry budget the retry policy assumes", () => {
    for (const [name, env] of Object.entries(environments)) {
      const producer = env.queues.producers[0].queue;
      const consumer = env.queues.consumers.find((c: Section) => c.queue === producer);
      expect(consumer, name).toBeDefined();
      expect(consumer.dead_letter_queue, name).toMatch(/dlq/);
      expect(consumer.max_retries, name).toBe(MAX_DELIVERY_ATTEMPTS);
      expect(
        env.queues.consumers.some((c: Section) => c.queue === consumer.dead_letter_queue),
        `${name} consumes its DLQ`,
      ).toBe(true);
    }
  });

  it("enables Workers Logs in every environment, stated in each", () => {
    for (const [name, env] of Object.entries(environments)) {
      expect(env.observability?.enabled, `${name} [observability] enabled`).toBe(true);
    }
  });

  it("keeps queue and database names apart between environments", () => {
    const queues = Object.values(environments).map((env) => env.queues.producers[0].queue);
    const databases = Object.values(environments).map((env) => env.d1_databases[0].database_name);
    expect(new Set(queues).size).toBe(queues.length);
    expect(new Set(databases).size).toBe(databases.length);
  });
});
