/** The <datalist>s the forms point their inputs at (`list="loyalty-fields"`). */
import { ANTAVO_ACTIONS, BLOOMREACH_HARD_IDS, LOYALTY_FIELD_SUGGESTIONS } from "./known-fields";

export const LOYALTY_FIELDS_LIST = "loyalty-fields";
export const ACTIONS_LIST = "antavo-actions";
export const HARD_IDS_LIST = "bloomreach-hard-ids";

export function LoyaltyFieldsList() {
  return (
    <datalist id={LOYALTY_FIELDS_LIST}>
      {LOYALTY_FIELD_SUGGESTIONS.map((field) => (
        <option value={field}>
          {field === "properties."
            ? "properties.<custom field>"
            : field === "tier"
              ? "tier (current tier's name)"
              : field}
        </option>
      ))}
    </datalist>
  );
}

export function ActionsList() {
  return (
    <datalist id={ACTIONS_LIST}>
      {ANTAVO_ACTIONS.map((action) => (
        <option value={action} />
      ))}
    </datalist>
  );
}

export function HardIdsList() {
  return (
    <datalist id={HARD_IDS_LIST}>
      {BLOOMREACH_HARD_IDS.map((id) => (
        <option value={id} />
      ))}
    </datalist>
  );
}
