/**
 * Loyalty fields are dot paths into a customer snapshot (`tiers.0.name`, `properties.store`).
 * `tier` is shorthand for the current tier's name (`tiers.0.name`: Antavo lists one entry per tier
 * structure, the main one first) unless the snapshot has its own `tier` field.
 */
export function readPath(source: unknown, path: string): unknown {
  let current: unknown = source;
  for (const segment of path.split(".")) {
    if (current === null || current === undefined) return undefined;
    if (Array.isArray(current)) {
      const index = Number(segment);
      current = Number.isInteger(index) ? current[index] : undefined;
    } else if (typeof current === "object") {
      current = Object.hasOwn(current, segment) ? (current as Record<string, unknown>)[segment] : undefined;
    } else {
      return undefined;
    }
  }
  return current;
}

export function readLoyaltyField(snapshot: Record<string, unknown>, field: string): unknown {
  if (field === "tier" && !Object.hasOwn(snapshot, "tier")) {
    const tiers = snapshot.tiers;
    return readPath(tiers, "0.name");
  }
  return readPath(snapshot, field);
}
