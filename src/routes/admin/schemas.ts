/** zod schemas of the admin API bodies that are not domain documents. */
import { z } from "zod";
import { WebhookEventSchema } from "../webhook/schema";

const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });
const token = z.string().trim().min(1).max(500);

export const BloomreachConnectionSchema = z.object({
  baseUrl: httpUrl,
  projectToken: token,
  apiKeyId: token,
  apiSecret: z.string().min(1).max(500).optional(),
});

export const AntavoConnectionSchema = z.object({
  baseUrl: httpUrl,
  environment: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9_-]+$/, "letters, digits, _ and - only"),
  apiKey: token,
  apiSecret: z.string().min(1).max(500).optional(),
});

export const PreviewSchema = z.object({
  event: WebhookEventSchema,
  /** Optional customer snapshot to plan against instead of the mirrored one. */
  customer: z.record(z.string(), z.unknown()).optional(),
  /** Include this workflow even while inactive; a date workflow is planned as today's run. */
  workflowId: z.string().trim().min(1).optional(),
});
