/**
 * What happened to one event, from the outcomes of its commands. Expected outcomes are values,
 * not exceptions: delivered, retry (with the soonest time Bloomreach allows), dead (with reasons),
 * paused (the project's credentials were refused; delivery waits for the admin), or outcome_unknown
 * (Bloomreach's 2xx could not be read). Precedence: paused, retry, dead, outcome_unknown, delivered.
 */
import { commandLabel, type RelayCommand } from "./commands";

export type CommandResult =
  | { status: "delivered" }
  | { status: "retry"; error: string; retryAfterSeconds?: number }
  | { status: "dead"; error: string }
  | { status: "paused"; error: string }
  /**
   * Bloomreach answered 2xx but its answer does not say what became of the command (invariant 10):
   * an event is not resent blindly (it would be tracked twice); an admin may replay it.
   */
  | { status: "outcome_unknown"; error: string };

/**
 * A refused command's result in the event's words: which command the vendor refused, then the
 * vendor's own reason ("event loyalty_tier_gold refused by Bloomreach: …"). The command's own
 * result keeps the vendor's words alone.
 */
export function namingRefusal(command: RelayCommand, result: CommandResult, by: string): CommandResult {
  return result.status === "dead"
    ? { status: "dead", error: `${commandLabel(command)} refused by ${by}: ${result.error}` }
    : result;
}

/** What happened to one event: the same values, combined over its commands. */
export type EventOutcome = CommandResult;

export function combineOutcomes(results: CommandResult[]): EventOutcome {
  const paused = results.find((r) => r.status === "paused");
  if (paused) return paused;
  const retries = results.filter((r): r is Extract<CommandResult, { status: "retry" }> => r.status === "retry");
  if (retries.length > 0) {
    const after = retries.map((r) => r.retryAfterSeconds).filter((s): s is number => s !== undefined);
    return {
      status: "retry",
      error: [...new Set(retries.map((r) => r.error))].join("; "),
      ...(after.length > 0 ? { retryAfterSeconds: Math.max(...after) } : {}),
    };
  }
  for (const status of ["dead", "outcome_unknown"] as const) {
    const matching = results.filter((r): r is Extract<CommandResult, { status: typeof status }> => r.status === status);
    if (matching.length > 0) return { status, error: [...new Set(matching.map((r) => r.error))].join("; ") };
  }
  return { status: "delivered" };
}
