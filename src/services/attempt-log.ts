/**
 * A delivery's attempt log as admins read it. Each pass through the pipeline numbers its attempts
 * from the queue message's count, which starts at 1 again after a replay (and after the sweeper's
 * requeue), so the stored numbers repeat; here every call to the delivery's destination gets the
 * next number of the whole log (so the last one is the delivery's `attempts`), and the attempts
 * after a replay say which replay they belong to. The other calls made for the delivery, the
 * customer lookup (enrichment) and the reward claims in Antavo of a delivery to Bloomreach, are
 * entries of their own kind, unnumbered: a customer Antavo does not know is not a failed attempt.
 * The replay markers (db/requeue-queries.ts) mark where a replay begins and are answered as
 * `replays`, not as attempts.
 */
import type { DeliveryRow } from "../db/delivery-log-queries";
import { REPLAY_MARKER } from "../db/requeue-queries";
import type { deliveryAttempts } from "../db/schema";

type AttemptRow = typeof deliveryAttempts.$inferSelect;

/**
 * `delivery`: a call to the delivery's destination (Bloomreach, or Antavo for `to_antavo`);
 * `lookup`: the Antavo customer lookup of enrichment; `claim`: a workflow's reward claim in Antavo;
 * `antavo`: an Antavo call of a delivery to Bloomreach whose request an erasure removed.
 */
export type AttemptKind = "delivery" | "lookup" | "claim" | "antavo";

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
  kind: AttemptKind;
  /** 1, 2, ... over the calls to the destination in the whole log; null for the other kinds. */
  number: number | null;
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

/** What a call was, from its target and the request enrich.ts and claim.ts record for it. */
function kindOf(destination: string, target: string, request: unknown): AttemptKind {
  if (target === destination) return "delivery";
  if (typeof request === "string" && request.startsWith("GET /customers/")) return "lookup";
  if (typeof request === "string" && request.startsWith("claim reward")) return "claim";
  return target === "antavo" ? "antavo" : "delivery";
}

export function readAttemptLog(
  row: DeliveryRow | undefined,
  rows: AttemptRow[],
  /** The delivery's (`to_bloomreach` or `to_antavo`); the row's when it has one. */
  direction: string | undefined = row?.direction,
): AttemptLog {
  const destination = direction === "to_antavo" ? "antavo" : "bloomreach";
  const replays: number[] = [];
  const stored: Omit<LoggedAttempt, "kind" | "number" | "replay">[] = [];
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
  const firstTry = row ? firstTryAttempt(row, stored, destination) : [];
  const all = [...stored, ...firstTry];
  let number = 0;
  return {
    attempts: all.map((a, i) => {
      const kind = kindOf(destination, a.target, a.request);
      return { ...a, kind, number: kind === "delivery" ? ++number : null, replay: runOf[i] ?? replays.length };
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
function firstTryAttempt(
  row: DeliveryRow,
  attempts: { target: string }[],
  target: string,
): Omit<LoggedAttempt, "kind" | "number" | "replay">[] {
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
