-- Issue 11: the other way (Bloomreach -> Antavo). One delivery log for both directions, the rules
-- that turn a Bloomreach event into an Antavo event, and the mirrored hard-ID value, indexed, by
-- which a Bloomreach webhook finds its Antavo customer.
ALTER TABLE `deliveries` ADD `direction` text DEFAULT 'to_bloomreach' NOT NULL;--> statement-breakpoint
CREATE INDEX `deliveries_direction` ON `deliveries` (`direction`,`created_at`);--> statement-breakpoint
CREATE TABLE `inbound_rules` (
	`event_type` text PRIMARY KEY NOT NULL,
	`position` integer NOT NULL,
	`antavo_action` text NOT NULL,
	`data` text NOT NULL,
	`updated_at` integer DEFAULT (unixepoch()) NOT NULL
);
--> statement-breakpoint
ALTER TABLE `customers` ADD `hard_id` text;--> statement-breakpoint
CREATE INDEX `customers_hard_id` ON `customers` (`hard_id`);--> statement-breakpoint
-- The hard-ID value is derived in the database from the snapshot and the hard-ID mapping, so every
-- writer of the mirror (the delivery log's batch, the import, anything later) keeps it right without
-- knowing the mapping. The value is trimmed like Bloomreach trims IDs; case is kept.
CREATE TRIGGER `customers_hard_id_insert` AFTER INSERT ON `customers` BEGIN
	UPDATE `customers` SET `hard_id` = (
		SELECT trim(CAST(json_extract(NEW.`snapshot`, '$.' || `loyalty_field`) AS TEXT)) FROM `hard_id_mapping` WHERE `id` = 1
	) WHERE `id` = NEW.`id`;
END;--> statement-breakpoint
CREATE TRIGGER `customers_hard_id_update` AFTER UPDATE OF `snapshot` ON `customers` BEGIN
	UPDATE `customers` SET `hard_id` = (
		SELECT trim(CAST(json_extract(NEW.`snapshot`, '$.' || `loyalty_field`) AS TEXT)) FROM `hard_id_mapping` WHERE `id` = 1
	) WHERE `id` = NEW.`id`;
END;--> statement-breakpoint
-- The hard ID is set once (409 hard_id_locked afterwards): customers mirrored before it get their value then.
CREATE TRIGGER `hard_id_mapping_insert` AFTER INSERT ON `hard_id_mapping` BEGIN
	UPDATE `customers` SET `hard_id` = trim(CAST(json_extract(`snapshot`, '$.' || NEW.`loyalty_field`) AS TEXT));
END;--> statement-breakpoint
UPDATE `customers` SET `hard_id` = (
	SELECT trim(CAST(json_extract(`customers`.`snapshot`, '$.' || `loyalty_field`) AS TEXT)) FROM `hard_id_mapping` WHERE `id` = 1
);
