/** zod schemas of the admin API bodies that are not domain documents. */
import { z } from "zod";

export { AntavoConnectionSchema, BloomreachConnectionSchema } from "../../domain/config";

import { WebhookEventSchema } from "../webhook/schema";

export const PreviewSchema = z.object({
  event: WebhookEventSchema,
  /** Optional customer snapshot to plan against instead of the mirrored one. */
  customer: z.record(z.string(), z.unknown()).optional(),
  /** Include this workflow even while inactive; a date workflow is planned as today's run. */
  workflowId: z.string().trim().min(1).optional(),
});
