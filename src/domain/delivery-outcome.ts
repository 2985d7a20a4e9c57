/**
 * What happened to one event, from the outcomes of its commands. Expected outcomes are values,
 * not exceptions: delivered, retry (with the soonest time Bloomreach allows), dead (with reasons),
 * or paused (the project's credentials were refused; delivery waits for the admin).
 */
export type CommandResult =
  | { status: "delivered" }
  | { status: "retry"; error: string; retryAfterSeconds?: number }
  | { status: "dead"; error: string }
  | { status: "paused"; error: string };

export type EventOutcome =
  | { status: "delivered" }
  | { status: "retry"; error: string; retryAfterSeconds?: number }
  | { status: "dead"; error: string }
  | { status: "paused"; error: string };

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
  const dead = results.filter((r): r is Extract<CommandResult, { status: "dead" }> => r.status === "dead");
  if (dead.length > 0) return { status: "dead", error: [...new Set(dead.map((r) => r.error))].join("; ") };
  return { status: "delivered" };
}
