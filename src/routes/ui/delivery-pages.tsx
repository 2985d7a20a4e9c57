/**
 * Admin UI pages for the delivery log and replays, over services/deliveries.ts like
 * `/api/deliveries`. The window replay answers JSON ({replayed, remaining}) to the page script's
 * progress loop and a page to a plain form post, one service page per request either way.
 */
import { Hono } from "hono";
import { errorBody } from "../../lib/errors";
import { getDelivery, listDeliveries, replayDeliveries, replayDelivery } from "../../services/deliveries";
import { emptyState, type FormState } from "../../ui/form";
import { DeliveriesPage, type DeliveryFilter, DeliveryListPart, DeliveryPage } from "../../ui/pages/deliveries";
import { ListQuerySchema, ReplaySchema } from "../admin/schemas";
import { type UiContext, type UiEnv, viewContext } from "./context";
import { attempt, optional, parseWith, readForm, redirectWith, str, wantsJson } from "./forms";

const PAGE_SIZE = 50;
/** Statuses of a delivery that has not been through the pipeline since it was queued. */
const WAITING: readonly string[] = ["pending", "retrying"];

/**
 * A form's values as the API's query or body: a blank field is "any", as an absent key is there.
 * `datetime-local` values have no zone and are read as UTC (the inputs say so), as the API reads an
 * ISO-8601 time without one.
 */
const blankAsAbsent = (values: Record<string, string>) =>
  Object.fromEntries(Object.entries(values).map(([key, value]) => [key, optional(value)]));

/**
 * The list, searched with `/api/deliveries`'s own query schema (admin/schemas.ts), so a bad search
 * reads as the API's issues do, on the same paths (the form's field names).
 */
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
  const parsed = parseWith(
    ListQuerySchema,
    { ...blankAsAbsent({ ...filter }), cursor: optional(query.cursor), limit: PAGE_SIZE },
    filter,
  );
  const listed = parsed.ok
    ? await attempt(filter, () => listDeliveries(c.get("deps").db, parsed.data))
    : { ...parsed, state: { ...parsed.state, message: "Some filters are not valid." } };
  const filterState: FormState = listed.ok ? { values: filter, issues: [] } : listed.state;
  const list = listed.ok ? listed.data : { items: [], nextCursor: null };
  const next = list.nextCursor
    ? `/admin/deliveries?${new URLSearchParams({ ...filter, cursor: list.nextCursor }).toString()}`
    : undefined;
  // The replay script refreshes just the list once it is done.
  if (c.req.method === "GET" && c.req.header("x-ui-fragment") && listed.ok)
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
    listed.ok ? status : 400,
  );
}

export const deliveryPages = new Hono<UiEnv>()
  .get("/deliveries", (c) => listPage(c))
  .post("/deliveries/replay", async (c) => {
    const values = await readForm(c);
    const form = { since: str(values.since), until: str(values.until), direction: str(values.direction) };
    // The window as `POST /api/deliveries/replay` reads it (status: dead, the default).
    const window = parseWith(ReplaySchema, blankAsAbsent(form), form);
    if (!window.ok) {
      if (wantsJson(c))
        return c.json(
          errorBody("validation_failed", "the window is not valid", c.get("requestId"), window.state.issues),
          400,
        );
      return listPage(c, { state: { ...window.state, message: "The window is not valid." } }, 400);
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
    const result = await replayDeliveries(c.get("deps"), window.data);
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
