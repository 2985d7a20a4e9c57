CREATE TABLE `antavo_connection` (
	`id` integer PRIMARY KEY NOT NULL,
	`base_url` text NOT NULL,
	`environment` text NOT NULL,
	`api_key` text NOT NULL,
	`api_secret_enc` text,
	`updated_at` integer DEFAULT (unixepoch()) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `bloomreach_connection` (
	`id` integer PRIMARY KEY NOT NULL,
	`base_url` text NOT NULL,
	`project_token` text NOT NULL,
	`api_key_id` text NOT NULL,
	`api_secret_enc` text,
	`delivery_state` text DEFAULT 'active' NOT NULL,
	`paused_reason` text,
	`paused_at` integer,
	`updated_at` integer DEFAULT (unixepoch()) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `customers` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text,
	`birth_month_day` text,
	`snapshot` text NOT NULL,
	`updated_at` integer DEFAULT (unixepoch()) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `customers_birth_month_day` ON `customers` (`birth_month_day`,`id`);--> statement-breakpoint
CREATE TABLE `deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`event_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`action` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`commands` text DEFAULT '[]' NOT NULL,
	`last_error` text,
	`next_attempt_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `deliveries_event` ON `deliveries` (`event_id`);--> statement-breakpoint
CREATE INDEX `deliveries_status` ON `deliveries` (`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `deliveries_customer` ON `deliveries` (`customer_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `deliveries_created` ON `deliveries` (`created_at`);--> statement-breakpoint
CREATE TABLE `delivery_attempts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`delivery_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`target` text DEFAULT 'bloomreach' NOT NULL,
	`outcome` text NOT NULL,
	`http_status` integer,
	`error` text,
	`request` text,
	`response` text,
	`duration_ms` integer NOT NULL,
	`started_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `delivery_attempts_delivery` ON `delivery_attempts` (`delivery_id`,`id`);--> statement-breakpoint
CREATE TABLE `event_sync` (
	`action` text PRIMARY KEY NOT NULL,
	`remote_event` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `field_mappings` (
	`position` integer PRIMARY KEY NOT NULL,
	`loyalty_field` text NOT NULL,
	`remote_field` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `hard_id_mapping` (
	`id` integer PRIMARY KEY NOT NULL,
	`loyalty_field` text NOT NULL,
	`remote_id` text NOT NULL,
	`updated_at` integer DEFAULT (unixepoch()) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `inbound_events` (
	`id` text PRIMARY KEY NOT NULL,
	`action` text NOT NULL,
	`customer_id` text NOT NULL,
	`payload` text NOT NULL,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `inbound_events_received` ON `inbound_events` (`received_at`);--> statement-breakpoint
CREATE TABLE `settings` (
	`id` integer PRIMARY KEY NOT NULL,
	`async_sync` integer DEFAULT true NOT NULL,
	`rate_limit_per_second` integer DEFAULT 50 NOT NULL,
	`retention_days` integer DEFAULT 30 NOT NULL,
	`updated_at` integer DEFAULT (unixepoch()) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `workflow_runs` (
	`workflow_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`run_date` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch()) NOT NULL,
	PRIMARY KEY(`workflow_id`, `customer_id`, `run_date`)
);
--> statement-breakpoint
CREATE TABLE `workflows` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`active` integer DEFAULT false NOT NULL,
	`priority` integer DEFAULT 100 NOT NULL,
	`document` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch()) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch()) NOT NULL,
	`last_run_at` integer
);
--> statement-breakpoint
CREATE INDEX `workflows_order` ON `workflows` (`priority`,`created_at`);