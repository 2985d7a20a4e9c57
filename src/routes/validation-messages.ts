import type { z } from "zod";

/**
 * The validator's wording ("Too small: expected string to have >=1 characters") in plain words,
 * keyed by zod's issue code: written once, used by the admin API's `message` and the pages alike
 * (the pages name the field by its label, the API by its path).
 */
export function plainMessage(issue: z.core.$ZodIssue): string {
  // A message the schema wrote itself ("is mapped twice") is already in the form's words.
  if (!/^(Invalid|Too small|Too big|Unrecognized)/.test(issue.message)) return issue.message;
  switch (issue.code) {
    case "invalid_type":
      // zod leaves `input` out of its issues by default; its message names what it received.
      if (/received (undefined|null)$/.test(issue.message) || issue.input === "") return "is required";
      return issue.expected === "number" ? "must be a number" : `must be ${article(issue.expected)}`;
    case "too_small":
      if (issue.origin === "string")
        return Number(issue.minimum) <= 1 ? "is required" : `needs at least ${issue.minimum} characters`;
      if (issue.origin === "array" || issue.origin === "set")
        return Number(issue.minimum) <= 1 ? "needs at least one entry" : `needs at least ${issue.minimum} entries`;
      return `must be ${issue.inclusive === false ? "more than" : "at least"} ${issue.minimum}`;
    case "too_big":
      if (issue.origin === "string") return `can be at most ${issue.maximum} characters long`;
      if (issue.origin === "array" || issue.origin === "set") return `can have at most ${issue.maximum} entries`;
      return `must be ${issue.inclusive === false ? "less than" : "at most"} ${issue.maximum}`;
    case "invalid_format":
      if (issue.format === "url") return "must be a web address such as https://api.example.com";
      if (issue.format === "email") return "must be an e-mail address";
      return "is not in the expected format";
    case "invalid_value":
      return `must be one of: ${issue.values.map(String).join(", ")}`;
    case "unrecognized_keys":
      return `has fields this form does not know: ${issue.keys.join(", ")}`;
    default:
      return issue.message;
  }
}

const article = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);
