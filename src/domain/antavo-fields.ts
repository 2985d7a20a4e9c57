/**
 * What the vendor reference says of Antavo's data: the customer object's fields (which of them are
 * numbers) and the event names seen in workspaces. Suggestions and typing hints only: any dot path
 * or action name is accepted, because workspaces add their own.
 */
export const ANTAVO_NUMERIC_FIELDS = [
  "score",
  "spent",
  "spendable",
  "pending",
  "reserved",
  "expired",
  "purchase_total",
  "purchase_count",
  "optin_at",
  "last_login_at",
  "updated_at",
] as const;

export const ANTAVO_CUSTOMER_FIELDS = [
  "email",
  "first_name",
  "last_name",
  "gender",
  "language",
  "mobile_phone",
  "birth_date",
  "status",
  ...ANTAVO_NUMERIC_FIELDS.filter((f) => f !== "updated_at"),
  "currency",
  "purchase_last_date",
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
