/**
 * Suggestions for the mapping and event-sync forms: the Antavo customer fields and event names the
 * vendor documents (reference/vendor-apis.md). Only suggestions in a <datalist>: any dot path or
 * action name is accepted, because workspaces add their own.
 */
export const ANTAVO_CUSTOMER_FIELDS = [
  "email",
  "first_name",
  "last_name",
  "gender",
  "language",
  "mobile_phone",
  "birth_date",
  "status",
  "score",
  "spent",
  "spendable",
  "pending",
  "reserved",
  "expired",
  "currency",
  "optin_at",
  "last_login_at",
  "purchase_total",
  "purchase_count",
  "purchase_last_date",
  "tier",
  "tiers.0.name",
  "properties.",
] as const;

export const ANTAVO_ACTIONS = [
  "opt_in",
  "opt_out",
  "profile",
  "point_add",
  "point_sub",
  "point_spend",
  "checkout",
  "checkout_item",
  "checkout_update",
  "checkout_accept",
  "checkout_reject",
  "refund",
  "partial_refund",
  "coupon_assign",
  "birthday",
  "activity",
  "daily_login",
  "reward",
  "reward_claim",
  "tier_change",
  "tier_up",
] as const;

export const BLOOMREACH_HARD_IDS = ["registered"] as const;
