/** The client's address as Cloudflare reports it; "unknown" outside Cloudflare (local tools, tests). */
import type { Context } from "hono";

export const clientAddress = (c: Context) => c.req.header("cf-connecting-ip") ?? "unknown";
