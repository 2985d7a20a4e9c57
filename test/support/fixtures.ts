/** Sample Antavo events and relay configuration shared by the tests. */
export const optInEvent = (overrides: Record<string, unknown> = {}) => ({
  id: "evt-1",
  action: "opt_in",
  customer: {
    id: "cust-1",
    email: "Ada.Lovelace@Example.com",
    first_name: "Ada",
    score: 120,
    tiers: [{ name: "Silver" }],
  },
  data: { points: 50 },
  created_at: 1_767_225_600,
  ...overrides,
});

export const demoMapping = {
  hardId: { loyaltyField: "email", remoteId: "registered" },
  fields: [
    { loyaltyField: "first_name", remoteField: "first_name" },
    { loyaltyField: "score", remoteField: "loyalty_points" },
    { loyaltyField: "tier", remoteField: "loyalty_tier" },
  ],
};

export const demoSettings = { asyncSync: true, events: [{ action: "opt_in", remoteEvent: "loyalty_opt_in" }] };
