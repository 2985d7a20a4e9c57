/**
 * `GET /api/export/bloomreach.csv`: the mirror as a Bloomreach import file (domain/bloomreach-csv),
 * streamed page by page (keyset on the customer id), so a million members never sit in memory.
 */
import * as v from "valibot";
import { readBackfillPage } from "../db/backfill-queries";
import { csvLine, exportColumns, exportRow } from "../domain/bloomreach-csv";
import { JsonObjectSchema } from "../domain/event";
import { RelayError } from "../lib/errors";
import { errorMessage, logger } from "../lib/logger";
import type { ConfigDeps } from "./config";
import { loadPlanConfig } from "./config";

const EXPORT_PAGE = 500;

export async function exportBloomreachCsv(deps: Pick<ConfigDeps, "db">): Promise<ReadableStream<Uint8Array>> {
  const config = await loadPlanConfig(deps);
  const columns = exportColumns(config);
  if (columns.length === 0) throw new RelayError("not_configured", "map the hard ID before exporting");
  const encoder = new TextEncoder();
  let cursor: string | undefined;
  let started = false;
  let finished = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(encoder.encode(csvLine(columns)));
        return;
      }
      if (finished) return controller.close();
      try {
        const rows = await readBackfillPage(deps.db, { limit: EXPORT_PAGE, cursor: cursor ?? null });
        let text = "";
        for (const row of rows) {
          const parsed = v.safeParse(JsonObjectSchema, safeJson(row.snapshot));
          const line = parsed.success ? exportRow(config, columns, { ...parsed.output, id: row.id }) : undefined;
          if (line) text += line;
        }
        if (text) controller.enqueue(encoder.encode(text));
        cursor = rows[rows.length - 1]?.id;
        if (rows.length < EXPORT_PAGE) finished = true;
      } catch (error) {
        logger.error(`export failed: ${errorMessage(error)}`, { cursor: cursor ?? null });
        controller.error(error);
      }
    },
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
