// Phone calls as GET /api/v1/calls gives them.
import type { UserRef } from "./types";

export interface Call {
  id: number;
  channel_id: number;
  line_id: number;
  direction: "in" | "out";
  from: string;
  to: string;
  client_number: string;
  state: "ringing" | "answered" | "ended";
  missed: boolean;
  cause: string;
  answered_by: UserRef | null;
  contact: { id: number; name: string; email: string; phone: string } | null;
  conversation: number | null;
  started_at: string;
  answered_at: string | null;
  ended_at: string | null;
  recording_url?: string;
  recording_error?: string;
}

/** clientNumber is the other party's number as the PBX wrote it. */
export function clientNumber(c: Call): string {
  return c.direction === "out" ? c.to : c.from;
}

/** talkSeconds is how long the call was talked, or null when it was not answered or goes on. */
export function talkSeconds(c: Call): number | null {
  if (!c.answered_at || !c.ended_at) return null;
  return (new Date(c.ended_at).getTime() - new Date(c.answered_at).getTime()) / 1000;
}
