/**
 * Runs the real app against the real bindings with one dependency observed or replaced, e.g. a
 * queue that records what was sent (and still sends it) or one that fails like an outage.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { createApp } from "../../src/app";
import { createDeps, type RelayDeps } from "../../src/composition";
import type { EventMessage, QueueMessage } from "../../src/domain/queue-message";

export function appWith(overrides: (deps: RelayDeps) => Partial<RelayDeps>) {
  const app = createApp((e) => {
    const deps = createDeps(e);
    return { ...deps, ...overrides(deps) };
  });
  return async (path: string, init: RequestInit) => {
    const ctx = createExecutionContext();
    const response = await app.fetch(new Request(`https://relay.test${path}`, init), env, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  };
}

export function recordingQueue(real: Queue<QueueMessage>) {
  const sent: EventMessage[] = [];
  const queue = {
    send: async (body: EventMessage, options?: QueueSendOptions) => {
      sent.push(body);
      await real.send(body, options);
    },
    sendBatch: async (messages: Iterable<MessageSendRequest<EventMessage>>, options?: QueueSendBatchOptions) => {
      const list = [...messages];
      sent.push(...list.map((m) => m.body));
      await real.sendBatch(list, options);
    },
  } as unknown as Queue<QueueMessage>;
  return { queue, sent };
}

export function failingQueue(message = "queue unavailable") {
  const fail = async () => {
    throw new Error(message);
  };
  return { send: fail, sendBatch: fail } as unknown as Queue<QueueMessage>;
}
