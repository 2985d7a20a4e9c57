/**
 * Bloomreach batch commands (the `commands[]` items of `/track/v2/projects/{token}/batch`) and the
 * Antavo actions a plan may carry. `source` records what produced a command so previews and the
 * delivery log can say why it exists; it is stripped before sending.
 */
export type CustomerIds = Record<string, string>;

export interface CustomerCommandData {
  customer_ids: CustomerIds;
  properties: Record<string, unknown>;
  update_timestamp?: number;
}

export interface EventCommandData {
  customer_ids: CustomerIds;
  event_type: string;
  timestamp: number;
  properties: Record<string, unknown>;
}

export type BloomreachCommand =
  | { name: "customers"; command_id?: string; data: CustomerCommandData }
  | { name: "customers/events"; command_id?: string; data: EventCommandData };

/** One Antavo event (`POST /events` body, or one entry of `POST /events/bulk`), DESIGN 4.4. */
export interface AntavoEventData {
  /** The Antavo customer id, found in the mirror by the Bloomreach hard ID. */
  customer: string;
  action: string;
  data: Record<string, unknown>;
}

export type AntavoEventCommand = { name: "antavo/events"; data: AntavoEventData };

/** What a sink sends: Bloomreach batch commands, or Antavo events for the other direction. */
export type RelayCommand = BloomreachCommand | AntavoEventCommand;

/** A command in a few words, to say which one a vendor refused: "event loyalty_tier_gold". */
export function commandLabel(command: RelayCommand): string {
  if (command.name === "customers/events") return `event ${command.data.event_type}`;
  if (command.name === "antavo/events") return `Antavo event ${command.data.action}`;
  return `customer properties: ${Object.keys(command.data.properties).join(", ") || "none"}`;
}

export type CommandSource =
  | { kind: "mapping" }
  | { kind: "inbound_rule"; eventType: string }
  | { kind: "event_sync"; action: string }
  | { kind: "workflow"; workflowId: string; workflowName: string };

export interface PlannedCommand {
  command: BloomreachCommand;
  source: CommandSource;
}

/** A reward claim through Antavo's API, produced by a workflow's `reward_claim` action. */
export interface RewardClaimAction {
  type: "reward_claim";
  customerId: string;
  rewardId: string;
  free: boolean;
  source: Extract<CommandSource, { kind: "workflow" }>;
}

export interface Plan {
  commands: PlannedCommand[];
  /** Why the plan may be incomplete (e.g. the hard-ID field is missing from the snapshot). */
  warnings: string[];
  /** Set when the customer cannot be identified in Bloomreach: nothing can be sent for the event. */
  unidentified?: boolean;
}
