/**
 * zod at the HTTP boundary through @hono/zod-validator, answering failures with the one error
 * body: code `validation_failed` and one issue per offending path, in plain words.
 */
import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { z } from "zod";
import { type ErrorIssue, formatPath, RelayError } from "../lib/errors";
import { plainMessage } from "./validation-messages";

export function zodIssues(error: z.core.$ZodError, prefix: readonly PropertyKey[] = []): ErrorIssue[] {
  return error.issues.map((issue) => ({ path: formatPath([...prefix, ...issue.path]), message: plainMessage(issue) }));
}

export const validate = <T extends z.ZodType, Target extends keyof ValidationTargets>(target: Target, schema: T) =>
  zValidator(target, schema, (result) => {
    if (!result.success)
      throw new RelayError("validation_failed", `the ${target} is not valid`, zodIssues(result.error));
  });
