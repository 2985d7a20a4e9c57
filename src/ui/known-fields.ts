/**
 * Suggestions for the mapping and event-sync forms (<datalist>): Antavo's documented customer
 * fields and event names, plus the relay's own shorthands (`tier`, nested paths).
 */
import { ANTAVO_ACTIONS, ANTAVO_CUSTOMER_FIELDS } from "../domain/antavo-fields";

export { ANTAVO_ACTIONS };

export const LOYALTY_FIELD_SUGGESTIONS = [...ANTAVO_CUSTOMER_FIELDS, "tier", "tiers.0.name", "properties."] as const;

export const BLOOMREACH_HARD_IDS = ["registered"] as const;
