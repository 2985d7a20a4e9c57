/**
 * Admin UI pages for the configuration: Bloomreach and Antavo connections, sync fields, event sync.
 * Each POST is the form twin of a PUT in routes/admin/config-routes.ts: same zod schema, same
 * service, so the UI cannot accept what the API would refuse.
 */
import { Hono } from "hono";
import { MappingSchema, SettingsSchema, TUNABLE_SETTINGS } from "../../domain/config";
import { saveBloomreachConnection, testBloomreachConnection } from "../../services/bloomreach-connection";
import {
  getAntavoConnection,
  getBloomreachConnection,
  getMapping,
  getSettings,
  putAntavoConnection,
  putMapping,
  putSettings,
} from "../../services/config";
import { REPLAY_PAGE } from "../../services/deliveries";
import { emptyState, type FormState } from "../../ui/form";
import { AntavoPage } from "../../ui/pages/antavo";
import { ConnectionPage, parkedCount, type TestContext } from "../../ui/pages/connection";
import { MappingPage } from "../../ui/pages/mapping";
import { SettingsPage } from "../../ui/pages/settings";
import { AntavoConnectionSchema, BloomreachConnectionSchema } from "../admin/schemas";
import { type UiContext, type UiEnv, viewContext } from "./context";
import {
  attempt,
  type FormValues,
  optional,
  optionalNumber,
  parseWith,
  readForm,
  redirectWith,
  rowEdit,
  rowsOf,
  str,
} from "./forms";

const connectionInput = (v: FormValues) => ({
  baseUrl: str(v.baseUrl),
  projectToken: str(v.projectToken),
  apiKeyId: str(v.apiKeyId),
  apiSecret: optional(v.apiSecret),
});
const antavoInput = (v: FormValues) => ({
  baseUrl: str(v.baseUrl),
  environment: str(v.environment),
  apiKey: str(v.apiKey),
  apiSecret: optional(v.apiSecret),
});

/** Never echo a submitted secret back into the page. */
const withoutSecret = ({ apiSecret: _, ...rest }: Record<string, unknown>) => rest;

async function connectionPage(
  c: UiContext,
  state?: FormState,
  status: 200 | 400 | 409 | 422 = 200,
  test?: Parameters<typeof ConnectionPage>[0]["test"],
  testContext?: TestContext,
) {
  const connection = await getBloomreachConnection(c.get("deps"));
  const values = connection.configured
    ? { baseUrl: connection.baseUrl, projectToken: connection.projectToken, apiKeyId: connection.apiKeyId }
    : {};
  const ctx = viewContext(c);
  const resumeNotice = savedNotice(c);
  return c.html(
    <ConnectionPage
      ctx={resumeNotice ? { ...ctx, notice: resumeNotice } : ctx}
      connection={connection}
      state={state ?? emptyState(values)}
      test={test}
      testContext={testContext}
    />,
    status,
  );
}

/**
 * "Saved." says nothing of the events a save sent again. The redirect carries the count (a
 * number: a crafted link can change the figure, never put words on the page).
 */
function savedNotice(c: UiContext): string | undefined {
  if (c.req.query("notice") !== "saved") return undefined;
  const requeuedText = c.req.query("requeued") ?? "";
  const requeued = /^\d{1,6}$/.test(requeuedText) ? Number(requeuedText) : 0;
  const resumed = c.req.query("resumed") === "1";
  if (!resumed && requeued === 0) return undefined;
  const queued =
    requeued === 0
      ? "no events were parked."
      : `${parkedCount(requeued)} ${requeued === 1 ? "was" : "were"} queued again${requeued >= REPLAY_PAGE ? "; any others follow with the next minutes' sweeps" : ""}.`;
  return resumed ? `Saved. Delivery resumed: ${queued}` : `Saved. ${queued[0]?.toUpperCase()}${queued.slice(1)}`;
}

/** The form's connection fields, when the request has any (a bare POST tests the saved connection). */
const CONNECTION_FIELDS = ["baseUrl", "projectToken", "apiKeyId", "apiSecret"] as const;

async function antavoPage(c: UiContext, state?: FormState, status: 200 | 400 | 409 | 422 = 200) {
  const connection = await getAntavoConnection(c.get("deps"));
  const values = connection.configured
    ? { baseUrl: connection.baseUrl, environment: connection.environment, apiKey: connection.apiKey }
    : {};
  return c.html(
    <AntavoPage ctx={viewContext(c)} connection={connection} state={state ?? emptyState(values)} />,
    status,
  );
}

async function mappingPage(c: UiContext, state?: FormState, status: 200 | 400 | 409 = 200, unsaved = false) {
  const stored = await getMapping(c.get("deps"));
  return c.html(
    <MappingPage ctx={viewContext(c)} locked={stored.hardId} state={state ?? emptyState(stored)} unsaved={unsaved} />,
    status,
  );
}

async function settingsPage(c: UiContext, state?: FormState, status: 200 | 400 = 200, unsaved = false) {
  return c.html(
    <SettingsPage
      ctx={viewContext(c)}
      state={state ?? emptyState(await getSettings(c.get("deps")))}
      unsaved={unsaved}
    />,
    status,
  );
}

/** Applies an "Add a row" / "Remove" button press to the submitted rows. */
function editRows(
  rows: Record<string, string>[],
  edit: { add: boolean; remove?: number },
  blank: Record<string, string>,
) {
  if (edit.add) return [...rows, blank];
  return rows.filter((_, index) => index !== edit.remove);
}

export const configPages = new Hono<UiEnv>()
  .get("/connection", (c) => connectionPage(c))
  .post("/connection", async (c) => {
    const values = await readForm(c);
    const input = connectionInput(values);
    const parsed = parseWith(BloomreachConnectionSchema, input, withoutSecret(input));
    if (!parsed.ok) return connectionPage(c, parsed.state, 400);
    const saved = await attempt(withoutSecret(input), () => saveBloomreachConnection(c.get("deps"), parsed.data));
    if (!saved.ok) return connectionPage(c, saved.state, saved.status as 400);
    const { requeued, resumed } = { requeued: 0, resumed: false, ...saved.data };
    const counts = `${requeued > 0 ? `&requeued=${requeued}` : ""}${resumed ? "&resumed=1" : ""}`;
    return redirectWith(c, "/admin/connection", `saved${counts}`);
  })
  .post("/connection/test", async (c) => {
    const values = await readForm(c);
    if (!CONNECTION_FIELDS.some((key) => key in values))
      return connectionPage(c, undefined, 200, await testBloomreachConnection(c.get("deps")));
    // The form's values, saved or not: what the admin sees is what is tested, and nothing is saved.
    const input = connectionInput(values);
    const parsed = parseWith(BloomreachConnectionSchema, input, withoutSecret(input));
    if (!parsed.ok) return connectionPage(c, parsed.state, 400);
    const result = await testBloomreachConnection(c.get("deps"), parsed.data);
    return connectionPage(c, emptyState(withoutSecret(input)), 200, result, {
      secretTyped: parsed.data.apiSecret !== undefined,
    });
  })
  .get("/antavo", (c) => antavoPage(c))
  .post("/antavo", async (c) => {
    const input = antavoInput(await readForm(c));
    const parsed = parseWith(AntavoConnectionSchema, input, withoutSecret(input));
    if (!parsed.ok) return antavoPage(c, parsed.state, 400);
    const saved = await attempt(withoutSecret(input), () => putAntavoConnection(c.get("deps"), parsed.data));
    if (!saved.ok) return antavoPage(c, saved.state, saved.status as 400);
    return redirectWith(c, "/admin/antavo", "saved");
  })
  .get("/mapping", (c) => mappingPage(c))
  .post("/mapping", async (c) => {
    const values = await readForm(c);
    const hard = values.hardId && typeof values.hardId === "object" ? (values.hardId as FormValues) : {};
    const hardId = { loyaltyField: str(hard.loyaltyField), remoteId: str(hard.remoteId) };
    // A row is blank when both names are: the type select always has a value.
    const fields = rowsOf(values.fields, ["loyaltyField", "remoteField", "type"]).filter(
      (row) => row.loyaltyField !== "" || row.remoteField !== "",
    );
    const edit = rowEdit(values);
    if (edit)
      return mappingPage(
        c,
        emptyState({ hardId, fields: editRows(fields, edit, { loyaltyField: "", remoteField: "", type: "" }) }),
        200,
        true,
      );
    const input = {
      hardId: hardId.loyaltyField === "" && hardId.remoteId === "" ? null : hardId,
      // "As Antavo sends it" is no type at all, as an absent JSON key would be.
      fields: fields.map(({ type, ...names }) => (type === "" ? names : { ...names, type })),
    };
    const parsed = parseWith(MappingSchema, input, { hardId, fields });
    if (!parsed.ok) return mappingPage(c, parsed.state, 400);
    const saved = await attempt({ hardId, fields }, () => putMapping(c.get("deps"), parsed.data));
    if (!saved.ok) return mappingPage(c, saved.state, saved.status as 409);
    return redirectWith(c, "/admin/mapping", "saved");
  })
  .get("/settings", (c) => settingsPage(c))
  .post("/settings", async (c) => {
    const values = await readForm(c);
    const events = rowsOf(values.events, ["action", "remoteEvent"]);
    const form = {
      asyncSync: values.asyncSync === "on",
      events,
      ...Object.fromEntries(TUNABLE_SETTINGS.map((key) => [key, str(values[key])])),
    };
    const edit = rowEdit(values);
    if (edit)
      return settingsPage(
        c,
        emptyState({ ...form, events: editRows(events, edit, { action: "", remoteEvent: "" }) }),
        200,
        true,
      );
    const input = {
      asyncSync: form.asyncSync,
      events: events.map((e) => ({ action: e.action, ...(e.remoteEvent ? { remoteEvent: e.remoteEvent } : {}) })),
      // A blank number keeps the saved value, as an omitted JSON key does.
      ...Object.fromEntries(TUNABLE_SETTINGS.map((key) => [key, optionalNumber(values[key])])),
    };
    const parsed = parseWith(SettingsSchema, input, form);
    if (!parsed.ok) return settingsPage(c, parsed.state, 400);
    const saved = await attempt(form, () => putSettings(c.get("deps"), parsed.data));
    if (!saved.ok) return settingsPage(c, saved.state, saved.status as 400);
    return redirectWith(c, "/admin/settings", "saved");
  });
