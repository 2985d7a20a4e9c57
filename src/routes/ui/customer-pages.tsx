/**
 * Admin UI pages for the customer mirror: lookup by id or hard-ID value (services/customer-lookup.ts)
 * with recent deliveries and what Bloomreach last received, and the import through
 * services/customer-import.ts. The page script posts a big file
 * in slices with `lineOffset`, so rejected-line numbers still refer to the whole file.
 */
import { Hono } from "hono";
import { RelayError } from "../../lib/errors";
import { cancelBackfill, getBackfill, latestBackfill, startBackfill } from "../../services/backfill";
import { getMapping } from "../../services/config";
import { type ImportFormat, type ImportSummary, importCustomers } from "../../services/customer-import";
import { lastReceivedByBloomreach, lookUpCustomer } from "../../services/customer-lookup";
import { listDeliveries } from "../../services/deliveries";
import { type ErasureReport, eraseCustomer } from "../../services/erasure";
import { exportBloomreachCsv } from "../../services/export";
import { emptyState, type FormState } from "../../ui/form";
import { CustomersPage } from "../../ui/pages/customers";
import { type UiContext, type UiEnv, viewContext } from "./context";
import { readForm, redirectWith, refusal, str, wantsJson } from "./forms";

function formatOf(choice: string, file: File): ImportFormat | undefined {
  if (choice === "csv" || choice === "ndjson") return choice;
  const name = file.name.toLowerCase();
  if (name.endsWith(".csv") || file.type === "text/csv") return "csv";
  if (/\.(ndjson|jsonl|json)$/.test(name) || file.type.includes("ndjson")) return "ndjson";
  return undefined;
}

/** Line numbers of a slice, moved to where the slice starts in the whole file. */
function shiftLines(summary: ImportSummary, offset: number): ImportSummary {
  if (offset === 0) return summary;
  return {
    ...summary,
    rejected: summary.rejected.map((r) => ({ ...r, line: r.line + offset })),
    warnings: summary.warnings.map((w) => ({ ...w, line: w.line + offset })),
    ...(summary.truncated
      ? { truncated: { ...summary.truncated, nextLine: summary.truncated.nextLine + offset } }
      : {}),
  };
}

async function page(
  c: UiContext,
  options: {
    importState?: FormState;
    summary?: ImportSummary;
    backfillError?: string;
    erasureError?: string;
    erasure?: { id: string; report: ErasureReport };
  } = {},
  status: 200 | 400 | 404 | 409 | 415 | 422 = 200,
) {
  const query = (options.erasure ? options.erasure.id : str(c.req.query("id"))).trim();
  const deps = c.get("deps");
  const [lookup, mapping, backfill] = await Promise.all([
    query ? lookUpCustomer(deps, query) : undefined,
    getMapping(deps),
    latestBackfill(deps),
  ]);
  // Found: its own deliveries. Not found: the deliveries logged under the query as an id anyway
  // (a Bloomreach event for an unknown customer, or one just erased).
  const customerId = lookup?.kind === "found" ? lookup.customer.id : lookup?.kind === "none" ? query : undefined;
  const [deliveries, received] = customerId
    ? await Promise.all([
        listDeliveries(deps.db, { customer: customerId, limit: 20 }),
        lookup?.kind === "found" ? lastReceivedByBloomreach(deps, customerId) : undefined,
      ])
    : [undefined, undefined];
  return c.html(
    <CustomersPage
      ctx={viewContext(c)}
      id={query}
      lookup={lookup}
      hardIdField={mapping.hardId?.loyaltyField}
      received={received}
      deliveries={deliveries?.items}
      importState={options.importState ?? emptyState()}
      summary={options.summary}
      backfill={backfill}
      {...(options.backfillError ? { backfillError: options.backfillError } : {})}
      {...(options.erasure ? { erasure: options.erasure } : {})}
      {...(options.erasureError ? { erasureError: options.erasureError } : {})}
    />,
    status,
  );
}

export const customerPages = new Hono<UiEnv>()
  .get("/customers", (c) => page(c))
  .post("/customers/backfill", async (c) => {
    try {
      const started = await startBackfill(c.get("deps"), {});
      if (wantsJson(c)) return c.json(await getBackfill(c.get("deps"), started.id), 202);
    } catch (error) {
      if (wantsJson(c)) throw error;
      const refused = refusal(error, {});
      return page(c, { backfillError: refused.state.message ?? "The sync could not start." }, refused.status as 409);
    }
    return redirectWith(c, "/admin/customers");
  })
  .get("/customers/backfill/:id", async (c) => {
    const job = await getBackfill(c.get("deps"), c.req.param("id"));
    if (wantsJson(c)) return c.json(job);
    return redirectWith(c, "/admin/customers");
  })
  .post("/customers/backfill/:id/cancel", async (c) => {
    const job = await cancelBackfill(c.get("deps"), c.req.param("id"));
    if (wantsJson(c)) return c.json(job);
    return redirectWith(c, "/admin/customers");
  })
  .get("/customers/export.csv", async (c) => {
    return new Response(await exportBloomreachCsv(c.get("deps")), {
      headers: {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": 'attachment; filename="bloomreach-customers.csv"',
        "cache-control": "no-store",
      },
    });
  })
  .post("/customers/erase", async (c) => {
    const values = await readForm(c);
    const id = str(values.id);
    if (id === "" || str(values.confirm) === "") {
      const message = id === "" ? "Say which customer to erase." : "Tick the box to confirm the erasure.";
      if (wantsJson(c)) throw new RelayError("validation_failed", message, [{ path: id ? "confirm" : "id", message }]);
      return page(c, { erasureError: message }, 400);
    }
    const report = await eraseCustomer(c.get("deps"), id, { anonymize: str(values.anonymize) !== "" });
    if (wantsJson(c)) return c.json(report);
    return page(c, { erasure: { id, report } });
  })
  .post("/customers/import", async (c) => {
    const body = await c.req.parseBody();
    const file = body.file;
    const fail = (message: string, status: 400 | 415) => {
      if (wantsJson(c))
        throw new RelayError(status === 415 ? "unsupported_media_type" : "validation_failed", message, [
          { path: "file", message },
        ]);
      return page(c, { importState: { values: {}, issues: [{ path: "file", message }], message } }, status);
    };
    if (!(file instanceof File) || file.size === 0) return fail("choose a non-empty file", 400);
    const format = formatOf(str(body.format), file);
    if (!format) return fail("cannot tell the format from the file name: choose CSV or NDJSON", 415);
    const offset = Math.max(0, Number(str(body.lineOffset)) || 0);
    let summary: ImportSummary;
    try {
      summary = shiftLines(await importCustomers(c.get("deps"), format, file.stream()), offset);
    } catch (error) {
      const refused = refusal(error, {});
      if (wantsJson(c)) throw error;
      return page(c, { importState: refused.state }, 400);
    }
    if (wantsJson(c)) return c.json(summary);
    return page(c, { summary });
  });
