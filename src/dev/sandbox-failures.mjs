/**
 * Failures on purpose for the Bloomreach sandbox: what its next call(s) answer instead of a success,
 * so a developer sees each path of the relay's delivery without a real outage: 429 with Retry-After
 * and 5xx are retried with backoff, a command refused inside a 200 batch ends that delivery `dead`,
 * 401 pauses delivery until the connection is saved again (docs/design.md, invariant 5).
 *
 * One plan at a time; each call it applies to uses one of its `times`. The same plan comes from
 * `POST /fail` (query or form fields), the sandbox page's forms, and `npm start -- --fail=500x3`.
 *
 * A command is refused either by its place in the batch (`command=2`), or by what an admin knows
 * of it (`eventType=loyalty_tier_gold`, `customer=ada@example.com`): its place depends on whether
 * the customer's fields changed and on what else shares the batch, which nobody can tell ahead.
 * By what it is, each refused command uses one of the `times`, and a call without one uses none.
 */

export const NORMAL = Object.freeze({ mode: "normal", remaining: 0 });

const MAX_TIMES = 1000;
const MAX_TEXT = 200;
const DEFAULT_RETRY_AFTER = 5;

/** Reads a plan from `get(name)` (URLSearchParams or a plain lookup); explains a bad value in words. */
export function parseFailure(get) {
  const mode = get("mode") || "status";
  const times = integer(get("times"), 1);
  if (times === undefined || times < 0 || times > MAX_TIMES)
    return refuse(`times must be a whole number from 0 to ${MAX_TIMES} (0 is back to normal)`);
  if (times === 0 || mode === "normal") return { ok: true, plan: NORMAL };

  if (mode === "refuse-command") {
    const eventType = text(get("eventType") ?? get("event_type"));
    const customer = text(get("customer"));
    if (eventType !== undefined || customer !== undefined) {
      if (text(get("command")) !== undefined)
        return refuse("give the command's place in the batch, or an event type and/or a customer id, not both");
      if ((eventType ?? "").length > MAX_TEXT || (customer ?? "").length > MAX_TEXT)
        return refuse(`an event type or a customer id is at most ${MAX_TEXT} characters`);
      return {
        ok: true,
        plan: { mode, ...(eventType ? { eventType } : {}), ...(customer ? { customer } : {}), remaining: times },
      };
    }
    const command = integer(get("command"), 1);
    if (command === undefined || command < 1 || command > 50)
      return refuse("command must be the command's place in the batch, from 1 to 50");
    return { ok: true, plan: { mode, command, remaining: times } };
  }
  if (mode !== "status") return refuse(`mode must be status, refuse-command or normal, not ${mode}`);

  const status = integer(get("status"), 503);
  if (status === undefined || status < 400 || status > 599)
    return refuse("status must be an HTTP error status from 400 to 599");
  // Bloomreach does not promise Retry-After (docs/vendor-apis.md): sent for 429/503 unless told 0.
  const wantsRetryAfter = status === 429 || status === 503;
  const retryAfter = integer(get("retryAfter") ?? get("retry-after"), wantsRetryAfter ? DEFAULT_RETRY_AFTER : 0);
  if (retryAfter === undefined || retryAfter < 0 || retryAfter > 3600)
    return refuse("retryAfter must be seconds from 0 to 3600 (0 sends no Retry-After)");
  return { ok: true, plan: { mode, status, remaining: times, ...(retryAfter > 0 ? { retryAfter } : {}) } };
}

/**
 * `npm start -- --fail=<spec>`: `500x3` (the next 3 calls answer 500), `429` (the next call),
 * `refuse:2x1` (command 2 of the next batch is refused).
 */
export function parseFailureFlag(spec) {
  const match = /^(?:(\d{3})|refuse(?:-command)?(?::(\d+))?)(?:x(\d+))?$/.exec(spec.trim());
  if (!match) return refuse(`--fail takes <status>x<times> (500x3, 429) or refuse:<command>x<times>, not ${spec}`);
  const [, status, command, times] = match;
  const fields = status
    ? { mode: "status", status, times }
    : { mode: "refuse-command", command: command ?? "1", times };
  return parseFailure((name) => fields[name]);
}

/** The plan in a sentence, for the page, the JSON answer and `npm start`'s log. */
export function describeFailure(plan) {
  if (plan.mode === "normal" || plan.remaining <= 0) return "Normal: every call is answered as Bloomreach would.";
  const calls = plan.remaining === 1 ? "the next call" : `the next ${plan.remaining} calls`;
  if (plan.mode === "refuse-command" && !("command" in plan)) {
    const n = plan.remaining;
    const noun = plan.eventType
      ? `${n === 1 ? "event" : `${n} events`} ${plan.eventType}`
      : n === 1
        ? "command"
        : `${n} commands`;
    const whose = plan.customer ? ` for ${plan.customer}` : "";
    return `The next ${noun}${whose} ${n === 1 ? "is" : "are"} refused ({"success": false, "errors": [...]}) inside a 200 answer, wherever it is in its batch; other commands are accepted.`;
  }
  if (plan.mode === "refuse-command") {
    const batches = plan.remaining === 1 ? "the next batch" : `each of the next ${plan.remaining} batches`;
    return `In ${batches}, command ${plan.command} is refused ({"success": false, "errors": [...]}) inside a 200 answer.`;
  }
  const retry = plan.retryAfter ? ` with Retry-After: ${plan.retryAfter}` : "";
  return `Failing: ${calls} answer${plan.remaining === 1 ? "s" : ""} HTTP ${plan.status}${retry}.`;
}

/** Whether a command is the one a refuse-by-what-it-is plan names (its event type, a customer id value). */
export function matchesRefusal(plan, name, data) {
  if (plan.mode !== "refuse-command" || "command" in plan) return false;
  if (plan.eventType !== undefined && (name !== "customers/events" || data?.event_type !== plan.eventType))
    return false;
  if (plan.customer !== undefined) {
    const ids = data?.customer_ids;
    if (!ids || typeof ids !== "object" || !Object.values(ids).some((value) => String(value) === plan.customer))
      return false;
  }
  return true;
}

/** The refused command in Bloomreach's error (`the event loyalty_tier_gold for ada@example.com`). */
export function refusalTarget(plan) {
  const whose = plan.customer ? ` for ${plan.customer}` : "";
  return plan.eventType ? `the event ${plan.eventType}${whose}` : `a command${whose}`;
}

/** Uses one of the plan's times; answers the plan that is left. */
export const consume = (plan) => (plan.remaining <= 1 ? NORMAL : { ...plan, remaining: plan.remaining - 1 });

function integer(raw, fallback) {
  if (raw === undefined || raw === null || String(raw).trim() === "") return fallback;
  const text = String(raw).trim();
  return /^\d{1,6}$/.test(text) ? Number(text) : undefined;
}

/** Trimmed text, or undefined when blank or absent. */
function text(raw) {
  if (raw === undefined || raw === null) return undefined;
  const value = String(raw).trim();
  return value === "" ? undefined : value;
}

const refuse = (message) => ({ ok: false, message });
