CREATE TABLE `dedupe_keys` (
	`key` text PRIMARY KEY NOT NULL,
	`event_id` text NOT NULL,
	`expires_at` integer,
	`claimed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `dedupe_keys_claimed` ON `dedupe_keys` (`claimed_at`);--> statement-breakpoint
ALTER TABLE `deliveries` ADD `warnings` text;--> statement-breakpoint
ALTER TABLE `field_mappings` ADD `type` text;--> statement-breakpoint
ALTER TABLE `settings` ADD `dedupe_window_seconds` integer DEFAULT 600 NOT NULL;--> statement-breakpoint
ALTER TABLE `settings` ADD `enrichment_ttl_seconds` integer DEFAULT 3600 NOT NULL;--> statement-breakpoint
ALTER TABLE `settings` ADD `antavo_rate_limit_per_minute` integer DEFAULT 1200 NOT NULL;--> statement-breakpoint
-- Events accepted before this migration keep recognising their redeliveries by Antavo's id.
INSERT OR IGNORE INTO `dedupe_keys` (`key`, `event_id`, `expires_at`, `claimed_at`)
SELECT 'id:' || `id`, `id`, NULL, `received_at` FROM `inbound_events` WHERE `id` NOT LIKE 'sha256:%';
