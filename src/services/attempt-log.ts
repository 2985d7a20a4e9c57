/**
 * A delivery's attempt log as admins read it. Each pass through the pipeline numbers its attempts
 * from the queue message's count, which starts at 1 again after a replay (and after the sweeper's
 * requeue), so the stored numbers repeat; here every pass gets the next number of the whole log,
 * and the attempts after a replay say which replay they belong to. The replay markers
 * (db/requeue-queries.ts) mark where a replay begins and are answered as `replays`, not as attempts.
 */
import type { DeliveryRow } from "../db/delivery-log-queries";
import { REPLAY_MARKER } from "../db/requeue-queries";
import type { deliveryAttempts } from "../db/schema";

type AttemptRow = typeof deliveryAttempts.$inferSelect;

export interface LoggedAttempt {
  /** The stored row's id and delivery (absent for a first try shown from the delivery row). */
  id?: number;
  deliveryId?: string;
  /** The pass's own count (the queue message's attempt), as stored. */
  attempt: number;
  target: string;
  outcome: string;
  httpStatus: number | null;
  error: string | null;
  /** Parsed JSON, or the erasure marker. */
  request: unknown;
  response: unknown;
  /** Null for a first try shown from the delivery row (its time is the batch's, not the event's). */
  durationMs: number | null;
  startedAt: number;
  /** 1, 2, ... over the whole log: attempts of one pass (e.g. enrichment and send) share it. */
  number: number;
  /** 0 for the first run, n for the attempts of the n-th replay. */
  replay: number;
}

export interface AttemptLog {
  attempts: LoggedAttempt[];
  /** When each replay was requested, in order (replay n is `replays[n - 1]`). */
  replays: number[];
}

const isMarker = (row: Pick<AttemptRow, "target" | "outcome">) =>
  row.target === REPLAY_MARKER.target && row.outcome === REPLAY_MARKER.outcome;

export function readAttemptLog(row: DeliveryRow | undefined, rows: AttemptRow[]): AttemptLog {
  const replays: number[] = [];
  const stored: Omit<LoggedAttempt, "number" | "replay">[] = [];
  const runOf: number[] = [];
  for (const a of rows) {
    if (isMarker(a)) {
      replays.push(a.startedAt);
      continue;
    }
    stored.push({
      ...a,
      request: a.request?.startsWith("[") ? jsonOrText(a.request) : a.request,
      response: a.response?.startsWith("{") ? jsonOrText(a.response) : a.response,
    });
    runOf.push(replays.length);
  }
  const firstTry = row ? firstTryAttempt(row, stored) : [];
  const all = [...stored, ...firstTry];
  let number = 0;
  return {
    attempts: all.map((a, i) => {
      const replay = runOf[i] ?? replays.length;
      const previous = all[i - 1];
      // A new pass: the stored count moved on, or a replay began in between.
      if (!previous || previous.attempt !== a.attempt || (runOf[i - 1] ?? replays.length) !== replay) number++;
      return { ...a, number, replay };
    }),
    replays,
  };
}

/** Attempt bodies are JSON, except where an erasure left its marker (`[erased]`). */
function jsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * A first try that Bloomreach took in full is not kept as an attempt row (it would repeat the
 * delivery's commands); the log shows it from the delivery row instead.
 */
function firstTryAttempt(row: DeliveryRow, attempts: { target: string }[]): Omit<LoggedAttempt, "number" | "replay">[] {
  const target = row.direction === "to_antavo" ? "antavo" : "bloomreach";
  if (row.status !== "delivered" || row.attempts === 0 || attempts.some((a) => a.target === target)) return [];
  const commands = JSON.parse(row.commands) as { command: unknown }[];
  return [
    {
      attempt: 1,
      target,
      outcome: "delivered",
      httpStatus: 200,
      error: null,
      // Not kept for a healthy first try: the call's time is in the consumer's batch, not per event.
      durationMs: null,
      request: commands.map((c) => c.command),
      response: { results: commands.map(() => ({ status: "delivered" })) },
      startedAt: row.createdAt,
    },
  ];
}
