-- The Customers search (UI and GET /api/customers?q=) finds a hard-ID value by its start in any
-- case: support types the e-mail as they heard it. SQLite's lower() folds ASCII only, and the
-- search is a range on lower(hard_id), so it needs this index on the expression; `id` after it keeps
-- the answer's order (value, then id) in the index, so a short prefix stops at the limit instead
-- of sorting every match. The exact, case-kept lookup of a Bloomreach webhook keeps customers_hard_id.
CREATE INDEX `customers_hard_id_lower` ON `customers` (lower(`hard_id`),`id`);
