// The API shapes the admin screens use (api/openapi.yaml: Line, Channel, Group, UserInfo…).
import type { Permission, Presence, Role } from "../../../lib/types";

export interface LineInfo {
  id: number;
  name: string;
  regulation_id: number | null;
  auto_open: boolean;
  auto_close_minutes: number;
  auto_close_text: string;
  default_type: string;
  paused_client_message: "resume" | "stay";
  merge_replies_after_close: boolean;
  routing?: "manual" | "round_robin" | "least_busy" | "responsible";
  /** Routing "responsible": the employee the line's requests are offered to (seed 000). */
  responsible_user_id?: number;
  /** Routing by custom data: a client field or conversation attribute value sends to a group. */
  routing_rules?: { key: string; value: string; group_id: number }[];
  away_policy?: "keep" | "return";
  /** Clients see only the line's name on replies (seed 004 "Имя оператора"). */
  hide_operator_name?: boolean;
  /** Sent at once when a client's message opens a conversation; outside business hours, the other. */
  greeting_text?: string;
  out_of_hours_text?: string;
  created_at: string;
  updated_at: string;
}

export interface ChannelInfo {
  id: number;
  kind: string;
  name: string;
  line_id: number;
  settings: Record<string, unknown>;
  enabled: boolean;
  created_at: string;
  updated_at: string;
}

export interface CreatedChannel {
  channel: ChannelInfo;
  inbound_token: string;
  secret: string;
}

export interface GroupInfo {
  id: number;
  name: string;
  kind: "operators" | "supervisors";
  permissions: Permission[];
  member_ids: number[];
  line_ids: number[];
  created_at: string;
  updated_at: string;
}

export interface UserInfo {
  id: number;
  email: string;
  name: string;
  role: Role;
  presence: Presence;
  created_at: string;
  updated_at: string;
  disabled: boolean;
  capacity?: number;
  group_ids: number[];
}

export interface PasswordLink {
  token: string;
  url: string;
  expires_at: string;
}

export interface Regulation {
  id: number;
  name: string;
}

export interface AuditRecord {
  id: number;
  at: string;
  actor_id: number | null;
  actor_name: string;
  action: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

export const permissions: Permission[] = ["omni", "unassigned_queue", "omni_settings", "telephony", "omni_management", "dialog_settings"];

export interface Items<T> {
  items: T[];
}
