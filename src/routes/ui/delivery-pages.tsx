/**
 * Admin UI pages for the delivery log and replays, over services/deliveries.ts like
 * `/api/deliveries`. The window replay answers JSON ({replayed, remaining}) to the page script's
 * progress loop and a page to a plain form post, one service page per request either way.
 */
import { Hono } from "hono";
import { DELIVERY_STATUSES, type DeliveryStatus } from "../../db/delivery-queries";
import { DIRECTIONS } from "../../domain/event";
import { parseUnixTime } from "../../domain/workflow/calendar";
import { type ErrorIssue, errorBody } from "../../lib/errors";
import { getDelivery, listDeliveries, replayDeliveries, replayDelivery } from "../../services/deliveries";
import { emptyState, type FormState } from "../../ui/form";
import { DeliveriesPage, type DeliveryFilter, DeliveryListPart, DeliveryPage } from "../../ui/pages/deliveries";
import { type UiContext, type UiEnv, viewContext } from "./context";
import { attempt, readForm, redirectWith, str, wantsJson } from "./forms";

const PAGE_SIZE = 50;
/** Statuses of a delivery that has not been through the pipeline since it was queued. */
const WAITING: readonly string[] = ["pending", "retrying"];
/** As in `/api/deliveries`: ids and names are short; a longer term cannot match anything. */
const MAX_TERM = 200;

/**
 * `datetime-local` values have no zone and are read as UTC (the inputs say so); Unix seconds or
 * milliseconds and ISO-8601 are accepted too, as in `/api/deliveries` (domain/workflow/calendar).
 */
function utcInstant(text: string, path: string, issues: ErrorIssue[]): number | undefined {
  if (text === "") return undefined;
  const seconds = parseUnixTime(text);
  if (seconds === undefined) issues.push({ path, message: "must be a date and time (UTC)" });
  return seconds;
}

function readWindow(values: { since?: unknown; until?: unknown }) {
  const issues: ErrorIssue[] = [];
  const since = utcInstant(str(values.since), "since", issues);
  const until = utcInstant(str(values.until), "until", issues);
  if (since !== undefined && until !== undefined && until < since)
    issues.push({ path: "until", message: "must not be before the start" });
  return { since, until, issues };
}

async function listPage(
  c: UiContext,
  replayed?: { state: FormState; progress?: { done: number; remaining: number } },
  status: 200 | 400 = 200,
) {
  const query = c.req.query();
  const filter: DeliveryFilter = {
    eventId: str(query.eventId),
    status: str(query.status),
    direction: str(query.direction),
    customer: str(query.customer),
    action: str(query.action),
    remoteEvent: str(query.remoteEvent),
    since: str(query.since),
    until: str(query.until),
  };
  // The replay window starts as the list's time filter: "replay what I am looking at".
  const replay = replayed ?? {
    state: emptyState({ since: filter.since, until: filter.until, direction: filter.direction }),
  };
  const window = readWindow(filter);
  const issues = [...window.issues];
  const statusOk = filter.status === "" || (DELIVERY_STATUSES as readonly string[]).includes(filter.status);
  if (!statusOk) issues.push({ path: "status", message: `must be one of ${DELIVERY_STATUSES.join(", ")}` });
  const direction = DIRECTIONS.find((d) => d === filter.direction);
  if (filter.direction !== "" && !direction)
    issues.push({ path: "direction", message: `must be one of ${DIRECTIONS.join(", ")}` });
  for (const path of ["eventId", "customer", "action", "remoteEvent"] as const)
    if (filter[path].length > MAX_TERM) issues.push({ path, message: `must be at most ${MAX_TERM} characters` });
  const listed =
    issues.length > 0
      ? undefined
      : await attempt(filter, () =>
          listDeliveries(c.get("deps").db, {
            ...(filter.status ? { status: filter.status as DeliveryStatus } : {}),
            ...(filter.eventId ? { eventId: filter.eventId } : {}),
            ...(filter.customer ? { customer: filter.customer } : {}),
            ...(filter.action ? { action: filter.action } : {}),
            ...(filter.remoteEvent ? { remoteEvent: filter.remoteEvent } : {}),
            ...(direction ? { direction } : {}),
            ...(window.since !== undefined ? { since: window.since } : {}),
            ...(window.until !== undefined ? { until: window.until } : {}),
            ...(query.cursor ? { cursor: query.cursor } : {}),
            limit: PAGE_SIZE,
          }),
        );
  const filterState: FormState =
    listed && !listed.ok
      ? listed.state
      : { values: filter, issues, ...(issues.length ? { message: "Some filters are not valid." } : {}) };
  const list = listed?.ok ? listed.data : { items: [], nextCursor: null };
  const next = list.nextCursor
    ? `/admin/deliveries?${new URLSearchParams({ ...filter, cursor: list.nextCursor }).toString()}`
    : undefined;
  // The replay script refreshes just the list once it is done.
  if (c.req.method === "GET" && c.req.header("x-ui-fragment") && issues.length === 0)
    return c.html(
      <DeliveryListPart list={list} filtered={Object.values(filter).some((v) => v !== "")} nextHref={next} />,
    );
  return c.html(
    <DeliveriesPage
      ctx={viewContext(c)}
      filter={filter}
      filterState={filterState}
      list={list}
      nextHref={next}
      replay={replay}
    />,
    issues.length > 0 ? 400 : status,
  );
}

export const deliveryPages = new Hono<UiEnv>()
  .get("/deliveries", (c) => listPage(c))
  .post("/deliveries/replay", async (c) => {
    const values = await readForm(c);
    const window = readWindow(values);
    const form = { since: str(values.since), until: str(values.until), direction: str(values.direction) };
    const direction = DIRECTIONS.find((d) => d === form.direction);
    if (window.issues.length > 0) {
      if (wantsJson(c))
        return c.json(
          errorBody("validation_failed", "the window is not valid", c.get("requestId"), window.issues),
          400,
        );
      return listPage(c, { state: { values: form, issues: window.issues, message: "The window is not valid." } }, 400);
    }
    // A window with neither end replays every dead delivery: only when the admin said so.
    const everything = form.since === "" && form.until === "";
    if (everything && str(values.confirmAll) !== "yes" && !(Number(str(values.done)) > 0)) {
      const issues = [{ path: "since", message: "is blank, as is the end: confirm to replay every dead delivery" }];
      if (wantsJson(c))
        return c.json(
          errorBody("validation_failed", "confirm the replay of every dead delivery", c.get("requestId"), issues),
          400,
        );
      return listPage(
        c,
        {
          state: {
            values: { ...form, confirmAll: "yes" },
            issues: [],
            message:
              "Both dates are blank, so this replays every dead delivery. Press the button again to confirm, or choose a window.",
          },
        },
        200,
      );
    }
    const result = await replayDeliveries(c.get("deps"), {
      since: window.since,
      until: window.until,
      ...(direction ? { direction } : {}),
    });
    if (wantsJson(c)) return c.json(result);
    const done = (Number(str(values.done)) || 0) + result.replayed;
    return listPage(c, {
      state: emptyState(form),
      progress: { done, remaining: result.replayed === 0 ? 0 : result.remaining },
    });
  })
  .get("/deliveries/:id", async (c) => {
    const delivery = await getDelivery(c.get("deps").db, c.req.param("id"));
    const ctx = viewContext(c);
    // "Queued for replay" stays true only until the replay ran: a reload after it says nothing stale.
    const { notice: _, ...withoutNotice } = ctx;
    const stale = c.req.query("notice") === "replayed" && !WAITING.includes(delivery.status);
    return c.html(<DeliveryPage ctx={stale ? withoutNotice : ctx} delivery={delivery} />);
  })
  .post("/deliveries/:id/replay", async (c) => {
    const id = c.req.param("id");
    const replayed = await attempt({}, () => replayDelivery(c.get("deps"), id));
    if (replayed.ok) return redirectWith(c, `/admin/deliveries/${encodeURIComponent(id)}`, "replayed");
    return c.html(
      <DeliveryPage
        ctx={viewContext(c)}
        delivery={await getDelivery(c.get("deps").db, id)}
        error={replayed.state.message}
      />,
      replayed.status as 409,
    );
  });
