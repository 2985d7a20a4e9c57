/** Display formats shared by the views: times in UTC (what cron and workflows use) and pretty JSON. */
export function formatTime(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "—";
  return new Date(seconds * 1000)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d{3}Z$/, " UTC");
}

/** For `<input type="datetime-local">`, whose value has no zone: the UI labels these inputs as UTC. */
export function toLocalInput(seconds: number | undefined): string {
  return seconds === undefined ? "" : new Date(seconds * 1000).toISOString().slice(0, 16);
}

export function prettyJson(value: unknown): string {
  if (typeof value === "string") {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value, null, 2) ?? "";
}

/** Vendor answers keep their raw body as a JSON string; show it as JSON too. */
export function expandJsonStrings(value: unknown): unknown {
  if (!value || typeof value !== "object" || Array.isArray(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => {
      if (typeof item !== "string" || !/^\s*[[{]/.test(item)) return [key, item];
      try {
        return [key, JSON.parse(item)];
      } catch {
        return [key, item];
      }
    }),
  );
}

export function plural(n: number, one: string, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}
