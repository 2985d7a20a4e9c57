CREATE TABLE `backfill_jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`updated_since` integer,
	`page_size` integer NOT NULL,
	`total` integer NOT NULL,
	`sent` integer DEFAULT 0 NOT NULL,
	`skipped` integer DEFAULT 0 NOT NULL,
	`failed` integer DEFAULT 0 NOT NULL,
	`pages` integer DEFAULT 0 NOT NULL,
	`cursor` text,
	`error` text,
	`started_at` integer NOT NULL,
	`finished_at` integer,
	`heartbeat_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `backfill_jobs_one_running` ON `backfill_jobs` (`status`) WHERE status = 'running';
--> statement-breakpoint
CREATE INDEX `backfill_jobs_started` ON `backfill_jobs` (`started_at`);
