/**
 * Per-customer field state: the last value and time sent for each Bloomreach property. It lets
 * the CustomerSync object send only changed fields and never let an older update overwrite a newer
 * one (invariant 4), even when Antavo's events arrive out of order.
 */
export interface SyncedField {
  /** JSON of the value last sent. */
  value: string;
  /** The event time (Unix seconds) that value came from. */
  at: number;
}

export type FieldState = Record<string, SyncedField>;

export interface FieldDiff {
  /** Properties to send: changed and not older than what was already sent. */
  send: Record<string, unknown>;
  /** Properties dropped because a newer value was already sent. */
  stale: string[];
  /** The field state after sending `send`. */
  next: FieldState;
}

export function diffFields(state: FieldState, properties: Record<string, unknown>, at: number): FieldDiff {
  const send: Record<string, unknown> = {};
  const stale: string[] = [];
  const next: FieldState = { ...state };
  for (const [field, value] of Object.entries(properties)) {
    const json = JSON.stringify(value);
    const previous = state[field];
    if (previous && previous.at > at) {
      stale.push(field);
      continue;
    }
    if (previous && previous.value === json) {
      next[field] = { value: json, at };
      continue;
    }
    send[field] = value;
    next[field] = { value: json, at };
  }
  return { send, stale, next };
}

/** Forgets fields whose delivery was refused, so the next update sends them again. */
export function forgetFields(state: FieldState, fields: string[]): FieldState {
  const next = { ...state };
  for (const field of fields) delete next[field];
  return next;
}
