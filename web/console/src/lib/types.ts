// The API's shapes as the console uses them (api/openapi.yaml is the source).

export type Role = "admin" | "supervisor" | "operator";
export type Presence = "online" | "away" | "offline";
export type Permission = "omni" | "unassigned_queue" | "omni_settings" | "telephony" | "omni_management" | "dialog_settings";
export type ConversationStatus = "queued" | "active" | "paused" | "closed";

export interface User {
  id: number;
  email: string;
  name: string;
  role: Role;
  presence: Presence;
  created_at: string;
}

export interface Access {
  operator_lines: number[];
  supervisor_lines: number[];
  queue_lines: number[];
  permissions: Permission[];
}

export interface Me {
  user: User;
  access: Access;
}

export interface UserRef {
  id: number;
  name: string;
}

export interface ChannelRef {
  id: number;
  kind: string;
  name: string;
}

export interface Conversation {
  number: number;
  kind: "request" | "dialog";
  status: ConversationStatus;
  chat_id: string;
  line_id: number;
  channel: ChannelRef;
  contact: { id: number; name: string; email: string; phone: string };
  assignee: UserRef | null;
  participants: UserRef[];
  title: string;
  type: string;
  reasons: string[];
  components: string[];
  solution?: string;
  close_reason?: string;
  created_at: string;
  last_activity_at: string;
  closed_at: string | null;
  due: { first_response: string | null; next_response: string | null; resolution: string | null };
  overdue: boolean;
  unread: number;
  client_rating: number | null;
  csat: number | null;
  last_message?: { text: string; direction: string; created_at: string } | null;
  waiting_since?: string | null;
  tags?: string[];
  priority?: "low" | "normal" | "high" | "urgent";
  attributes?: Record<string, string>;
}

export interface Attachment {
  url: string;
  name?: string;
  content_type?: string;
}

export interface Message {
  id: string;
  chat_id: string;
  conversation: number | null;
  direction: "in" | "out" | "note" | "system";
  author: UserRef | null;
  text: string;
  attachments: Attachment[];
  buttons: { payload: string; text?: string }[];
  kind?: string;
  status: string;
  created_at: string;
  delivery?: { attempts?: number; last_error?: string };
  /** Set for a message that came or went as mail. */
  mail?: MessageMail;
}

export interface MailAddress {
  name?: string;
  address: string;
}

/** A message as mail: subject, addresses, the whole text with its quoted history, the HTML (sanitised). */
export interface MessageMail {
  message_id?: string;
  subject: string;
  from: MailAddress | Record<string, never>;
  to: MailAddress[];
  cc: MailAddress[];
  full_text?: string;
  html?: string;
}

export interface TimelineEntry {
  seq: number;
  at: string;
  actor: UserRef | null;
  kind: string;
  data: Record<string, unknown>;
}

export interface Line {
  id: number;
  name: string;
  [k: string]: unknown;
}
