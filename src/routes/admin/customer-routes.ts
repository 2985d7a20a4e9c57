/** Admin JSON API: the D1 customer mirror (lookup, search by hard-ID value) and its bulk import (NDJSON or CSV, streamed). */
import { OpenAPIHono } from "@hono/zod-openapi";
import { readCustomer } from "../../db/customer-queries";
import { RelayError } from "../../lib/errors";
import { type ImportFormat, importCustomers, MAX_IMPORT_BYTES } from "../../services/customer-import";
import { MAX_MATCHES, MAX_QUERY_LENGTH, searchCustomers } from "../../services/customer-lookup";
import { eraseCustomer } from "../../services/erasure";
import type { AppEnv } from "../middleware/deps";
import { ADMIN, adminResponses, answer, createRoute, idParam, mount, z } from "../openapi";

const FORMATS: Record<string, ImportFormat> = {
  "application/x-ndjson": "ndjson",
  "application/ndjson": "ndjson",
  "application/jsonl": "ndjson",
  "text/csv": "csv",
};

function importFormat(contentType: string | undefined): ImportFormat {
  const media = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  const format = FORMATS[media];
  if (!format)
    throw new RelayError(
      "unsupported_media_type",
      `send application/x-ndjson (one customer per line) or text/csv, not ${media || "no content type"}`,
    );
  return format;
}

export const customerRoutes = new OpenAPIHono<AppEnv>();

mount(
  customerRoutes,
  createRoute({
    method: "post",
    path: "/customers/import",
    ...ADMIN,
    summary: "Import Antavo customers (NDJSON or CSV) into the mirror",
    description: `At most ${MAX_IMPORT_BYTES} bytes per request; a longer upload answers \`truncated\` with the line to resume from.`,
    request: {
      body: {
        content: {
          "application/x-ndjson": { schema: { type: "string", description: "one Antavo customer object per line" } },
          "text/csv": {
            schema: { type: "string", description: "a header row of dot paths, then one customer per row" },
          },
        },
      },
    },
    responses: adminResponses(
      {
        200: answer(
          "`{imported, updated, rejected, rejectedCount, warnings, warningCount, total, truncated?}`; `warnings` lists kept rows without a hard-ID value (Bloomreach cannot match them yet)",
        ),
      },
      400,
      413,
      415,
    ),
  }),
  async (c) => {
    const format = importFormat(c.req.header("content-type"));
    // A declared length over the limit is refused before a byte is read (and nothing is stored);
    // an undeclared one is cut where it crosses the limit, like the row limit (`truncated`).
    if (Number(c.req.header("content-length") ?? 0) > MAX_IMPORT_BYTES)
      throw new RelayError("payload_too_large", `the upload is larger than ${MAX_IMPORT_BYTES} bytes; split it`);
    const body = c.req.raw.body;
    if (!body) throw new RelayError("invalid_body", "the upload is empty");
    return c.json(await importCustomers(c.get("deps"), format, body));
  },
);
mount(
  customerRoutes,
  createRoute({
    method: "get",
    path: "/customers",
    ...ADMIN,
    summary: "Search the mirror by Antavo id or by the start of the hard-ID value",
    description: `The customer whose id is \`q\` (exactly), then those whose hard-ID value (e.g. the e-mail) starts with \`q\`, ASCII letters in any case, in value order; at most ${MAX_MATCHES} in all, \`more\` says when there are more.`,
    request: {
      query: z.object({
        q: z
          .string()
          .trim()
          .min(1, "is required")
          .max(MAX_QUERY_LENGTH, `must be at most ${MAX_QUERY_LENGTH} characters`),
      }),
    },
    responses: adminResponses({ 200: answer("`{items: [{id, hardId, email, updatedAt}], more}`") }, 400),
  }),
  async (c) => {
    const { q } = c.req.valid("query");
    return c.json(await searchCustomers(c.get("deps"), q));
  },
);
mount(
  customerRoutes,
  createRoute({
    method: "get",
    path: "/customers/{id}",
    ...ADMIN,
    summary: "The mirrored customer",
    request: { params: idParam("the Antavo customer id") },
    responses: adminResponses({ 200: answer("`{id, email, hardId, birthMonthDay, snapshot, updatedAt}`") }, 404),
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const row = await readCustomer(c.get("deps").db, id);
    if (!row) throw new RelayError("not_found", `no customer ${id} in the mirror`);
    return c.json({
      id: row.id,
      email: row.email,
      hardId: row.hardId,
      birthMonthDay: row.birthMonthDay,
      snapshot: row.snapshot,
      updatedAt: row.updatedAt,
    });
  },
);
mount(
  customerRoutes,
  createRoute({
    method: "delete",
    path: "/customers/{id}",
    ...ADMIN,
    summary: "Erase a customer from the relay (GDPR), optionally anonymizing it in Bloomreach",
    description:
      "Erases the mirror row, the inbound events, the CustomerSync object's storage and the personal data in the customer's delivery-log rows (replaced by `[erased]`; statuses and counts stay). Events received before the erasure and still queued are not sent. `?bloomreach=anonymize` also calls Bloomreach's anonymize endpoint (permission GDPR > Anonymize customer).",
    request: {
      params: idParam("the Antavo customer id"),
      query: z.object({ bloomreach: z.enum(["anonymize", "keep"]).optional() }),
    },
    responses: adminResponses(
      {
        200: answer(
          '`{erased: {mirror, events, deliveries}, bloomreach: "anonymized" | "skipped" | "failed: <reason>"}`',
        ),
      },
      400,
    ),
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { bloomreach } = c.req.valid("query");
    return c.json(await eraseCustomer(c.get("deps"), id, { anonymize: bloomreach === "anonymize" }));
  },
);
