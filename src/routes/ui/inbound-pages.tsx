/**
 * The "Inbound from Bloomreach" page: the form twin of `GET/PUT /api/inbound` (same zod schema,
 * same service) and of `POST /api/inbound/preview` (Try it).
 */
import { Hono } from "hono";
import { InboundRulesSchema } from "../../domain/inbound-rules";
import type { ErrorIssue } from "../../lib/errors";
import { getAntavoConnection, getMapping } from "../../services/config";
import { getInboundRules, previewInbound, putInboundRules } from "../../services/inbound";
import { emptyState, type FormState } from "../../ui/form";
import { prettyJson } from "../../ui/format";
import { InboundPage, type InboundPreviewView, SAMPLE_BLOOMREACH_BODY } from "../../ui/pages/inbound";
import { BloomreachEventSchema } from "../webhook/bloomreach-schema";
import { type UiContext, type UiEnv, viewContext } from "./context";
import { attempt, readForm, redirectWith, rowEdit, rowsOf, str } from "./forms";

type RuleRow = { eventType: string; antavoAction: string; data: string };

async function inboundPage(
  c: UiContext,
  options: {
    state?: FormState;
    status?: 200 | 400 | 422;
    unsaved?: boolean;
    sample?: string;
    preview?: InboundPreviewView;
    tryError?: string;
  } = {},
) {
  const deps = c.get("deps");
  const [rules, mapping] = await Promise.all([getInboundRules(deps), getMapping(deps)]);
  const rows: RuleRow[] = rules.rules.map((r) => ({
    eventType: r.eventType,
    antavoAction: r.antavoAction,
    data: JSON.stringify(r.data),
  }));
  return c.html(
    <InboundPage
      ctx={viewContext(c)}
      state={options.state ?? emptyState({ rules: rows })}
      webhookUrl={`${new URL(c.req.url).origin}/webhooks/bloomreach`}
      tokenSet={Boolean(deps.bloomreachWebhookToken)}
      remoteId={mapping.hardId?.remoteId}
      sample={options.sample ?? SAMPLE_BLOOMREACH_BODY}
      preview={options.preview}
      tryError={options.tryError}
      unsaved={options.unsaved}
    />,
    options.status ?? 200,
  );
}

/** A rule's details are one JSON field in the form: its nested issues are shown at that field. */
const atField = (issues: ErrorIssue[]) =>
  issues.map((issue) => {
    const match = /^(rules\.\d+\.data)\.(.+)$/.exec(issue.path);
    return match ? { path: match[1]!, message: `${match[2]}: ${issue.message}` } : issue;
  });

export const inboundPages = new Hono<UiEnv>()
  .get("/inbound", (c) => inboundPage(c))
  .post("/inbound", async (c) => {
    const values = await readForm(c);
    const rows = rowsOf(values.rules, ["eventType", "antavoAction", "data"]) as RuleRow[];
    const edit = rowEdit(values);
    if (edit) {
      const edited = edit.add
        ? [...rows, { eventType: "", antavoAction: "", data: "" }]
        : rows.filter((_, i) => i !== edit.remove);
      return inboundPage(c, { state: emptyState({ rules: edited }), unsaved: true });
    }
    const issues: ErrorIssue[] = [];
    const rules = rows.map((row, index) => {
      let data: unknown = {};
      if (row.data !== "") {
        try {
          data = JSON.parse(row.data);
        } catch {
          issues.push({ path: `rules.${index}.data`, message: 'must be JSON, like {"points": 50}' });
        }
      }
      return { eventType: row.eventType, antavoAction: row.antavoAction, data };
    });
    const parsed = InboundRulesSchema.safeParse({ rules });
    if (!parsed.success)
      issues.push(...parsed.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message })));
    if (issues.length > 0 || !parsed.success)
      return inboundPage(c, {
        state: { values: { rules: rows }, issues: atField(issues), message: "Some rules are not valid." },
        status: 400,
      });
    const saved = await attempt({ rules: rows }, () => putInboundRules(c.get("deps"), parsed.data));
    if (!saved.ok) return inboundPage(c, { state: saved.state, status: saved.status as 400 });
    return redirectWith(c, "/admin/inbound", "saved");
  })
  .post("/inbound/try", async (c) => {
    const sample = str((await readForm(c)).sample);
    let body: unknown;
    try {
      body = JSON.parse(sample);
    } catch {
      return inboundPage(c, { sample, tryError: "The body is not JSON.", status: 400 });
    }
    const event = BloomreachEventSchema.safeParse(body);
    if (!event.success)
      return inboundPage(c, {
        sample,
        status: 400,
        tryError: `The body is not a Bloomreach event: ${event.error.issues.map((i) => `${i.path.join(".") || "body"} ${i.message}`).join("; ")}`,
      });
    const deps = c.get("deps");
    const antavo = await getAntavoConnection(deps);
    const preview = await attempt({}, () =>
      previewInbound({ ...deps, ...(antavo.configured ? { antavoBaseUrl: antavo.baseUrl } : {}) }, event.data),
    );
    if (!preview.ok) return inboundPage(c, { sample, tryError: preview.state.message, status: 422 });
    return inboundPage(c, { sample: prettyJson(body), preview: preview.data });
  });
