-- Outcomes on their way to the customers' CustomerSync objects (issue 13): written with the
-- delivery log before the ack, carried to the object by the customer's next plan call, or applied
-- by the minute sweep.
CREATE TABLE `object_settlements` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`customer_id` text NOT NULL,
	`body` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `object_settlements_customer` ON `object_settlements` (`customer_id`,`id`);
