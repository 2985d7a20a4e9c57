-- Event sync keeps the admin's order of the rows (it was read back sorted by action). Rows saved
-- before this share position 0 and keep their old order (by action) until the next save.
ALTER TABLE `event_sync` ADD `position` integer DEFAULT 0 NOT NULL;
