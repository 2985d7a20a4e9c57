/**
 * The one place that puts messages on the events queue, within Cloudflare's limits: 128 KB a
 * message, 256 KB and 100 messages a `sendBatch` (with headroom).
 */
import type { EventMessage, QueueMessage } from "../domain/queue-message";

export const MAX_MESSAGE_BYTES = 120_000;
const MAX_SEND_BATCH_BYTES = 240_000;
const MAX_SEND_BATCH_MESSAGES = 100;

/** UTF-8 size of a JSON text; most events are ASCII, whose size is their length (no encoding). */
export const jsonBytes = (text: string): number =>
  /^[\x00-\x7f]*$/.test(text) ? text.length : new TextEncoder().encode(text).length;

export const messageSize = (message: EventMessage): number => jsonBytes(JSON.stringify(message));

/** What an event message adds around the event's own JSON. */
export const EVENT_ENVELOPE_BYTES = JSON.stringify({ type: "event", event: {} }).length - 2;

/** Sends messages in as few sendBatch calls as the size limits allow; a delay postpones one message. */
export async function sendMessages(
  queue: Queue<QueueMessage>,
  messages: EventMessage[],
  delaySeconds?: (message: EventMessage) => number | undefined,
): Promise<void> {
  if (messages.length === 1) {
    // The common webhook: one event, already known to fit.
    const delay = delaySeconds?.(messages[0]!);
    await queue.send(messages[0]!, { contentType: "json", ...(delay ? { delaySeconds: delay } : {}) });
    return;
  }
  let batch: MessageSendRequest<EventMessage>[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = messageSize(message);
    const delay = delaySeconds?.(message);
    if (batch.length === MAX_SEND_BATCH_MESSAGES || (batch.length > 0 && bytes + size > MAX_SEND_BATCH_BYTES)) {
      await queue.sendBatch(batch);
      batch = [];
      bytes = 0;
    }
    batch.push({ body: message, contentType: "json", ...(delay ? { delaySeconds: delay } : {}) });
    bytes += size;
  }
  if (batch.length > 0) await queue.sendBatch(batch);
}
