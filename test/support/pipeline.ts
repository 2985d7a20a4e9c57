/**
 * Drives the real pipeline in tests: configures the relay through the admin API, runs queue
 * batches through the Worker's own `queue` handler with the platform helpers, and routes outbound
 * HTTP to the vendor fakes (fail closed on anything else).
 */
import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { afterEach } from "vitest";
import { openDatabase } from "../../src/db/client";
import type { RelayEvent } from "../../src/domain/event";
import { type EventMessage, eventMessage } from "../../src/domain/queue-message";
import worker from "../../src/index";
import { recordInboundEvents, withIdClaims } from "../../src/services/ingest";
import { FakeAntavo } from "../fakes/fake-antavo";
import { FakeBloomreach } from "../fakes/fake-bloomreach";
import { installOutboundFakes } from "../fakes/outbound";
import { admin } from "./http";

export const BLOOMREACH = {
  baseUrl: "https://bloomreach.test",
  projectToken: "proj-1",
  apiKeyId: "key-1",
  apiSecret: "bloomreach-secret",
};
export const ANTAVO = {
  baseUrl: "https://api.demo.antavo.com",
  environment: "demo",
  apiKey: "antavo-key",
  apiSecret: "antavo-secret",
};

export const EVENTS_QUEUE = "relay-events-local";
export const DEAD_LETTER_QUEUE = "relay-events-dlq-local";

export interface RelaySetup {
  mapping?: unknown;
  settings?: unknown;
  antavo?: boolean;
}

async function put(path: string, body: unknown) {
  const response = await admin(path, { body });
  if (!response.ok) throw new Error(`PUT /api${path} failed: ${response.status} ${await response.text()}`);
}

/** Saves connection, mapping and settings, and installs the vendor fakes for outbound calls. */
export async function setUpRelay(setup: RelaySetup = {}) {
  const bloomreach = new FakeBloomreach(BLOOMREACH);
  const antavo = new FakeAntavo(ANTAVO);
  await put("/connection", BLOOMREACH);
  if (setup.mapping) await put("/mapping", setup.mapping);
  if (setup.settings) await put("/settings", setup.settings);
  if (setup.antavo) await put("/antavo", ANTAVO);
  const restore = installOutboundFakes(bloomreach, antavo);
  return { bloomreach, antavo, restore };
}

/**
 * For a test file: answers a function that sets the relay up with fresh vendor fakes, and restores
 * the outbound fetch after each test (failing it if a request went to no fake).
 */
export function relayWithFakes(setup: RelaySetup = {}) {
  let restore: (() => void) | undefined;
  afterEach(() => {
    restore?.();
    restore = undefined;
  });
  return async () => {
    const fakes = await setUpRelay(setup);
    restore = fakes.restore;
    return fakes;
  };
}

let sequence = 0;

export interface QueuedMessage {
  body: EventMessage;
  attempts?: number;
  id?: string;
}

export const asMessage = (event: RelayEvent, attempts = 1): QueuedMessage => ({
  body: eventMessage(event),
  attempts,
  id: `msg-${event.id}`,
});

/**
 * Runs one batch through the Worker's queue handler; answers what it acked and retried. Like
 * ingest, it records each event in inbound_events first (replays and requeues read it from there).
 */
export async function runQueue(messages: QueuedMessage[], queue = EVENTS_QUEUE) {
  await recordInboundEvents(
    openDatabase(env.DB),
    withIdClaims(messages.flatMap((m) => (m.body.type === "event" ? [m.body.event] : []))),
  );
  const batch = createMessageBatch<EventMessage>(
    queue,
    messages.map((m) => ({
      id: m.id ?? `msg-${++sequence}`,
      timestamp: new Date(),
      attempts: m.attempts ?? 1,
      body: m.body,
    })),
  );
  // getQueueResult does not report retry delays, so they are read off the messages' retry calls.
  const delays = new Map<string, number | undefined>();
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    message.retry = (options?: QueueRetryOptions) => {
      delays.set(message.id, options?.delaySeconds);
      retry(options);
    };
  }
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<unknown>, env, ctx);
  const result = await getQueueResult(batch, ctx);
  return {
    acked: result.explicitAcks,
    retried: result.retryMessages,
    retryDelay: (id: string) => delays.get(id),
  };
}

export function relayEvent(overrides: Partial<RelayEvent> & { id: string; customerId: string }): RelayEvent {
  return {
    action: "opt_in",
    customer: { email: `${overrides.customerId}@example.com`, first_name: "Ada", score: 100 },
    data: { points: 10 },
    createdAt: 1_767_225_600,
    receivedAt: 1_767_225_600,
    ...overrides,
  };
}

export async function deliveryRow(id: string) {
  return env.DB.prepare("select * from deliveries where id = ?").bind(id).first<Record<string, any>>();
}

export async function attemptRows(id: string) {
  return (
    await env.DB.prepare("select * from delivery_attempts where delivery_id = ? order by id")
      .bind(id)
      .all<Record<string, any>>()
  ).results;
}
