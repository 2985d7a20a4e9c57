-- The Deliveries search filters by Antavo action (newest first): without this index that filter
-- scans the whole log. Event id, customer, status and direction already have theirs (0000_init).
CREATE INDEX `deliveries_action` ON `deliveries` (`action`,`created_at`);
