// Helpers shared by the conversation view's parts: what the signed-in user may do in a
// conversation (the same rules as workflows/rules.go, so the console offers only what the API
// allows), and the API's refusals as text in the user's language.
import { ApiError } from "../../lib/api";
import type { T } from "../../lib/i18n";
import type { Conversation, Me } from "../../lib/types";
import type { Key } from "../../strings";

/** privileged: an admin, or a supervisor of the conversation's line (the workflows' line role). */
export function privileged(me: Me, c: Conversation): boolean {
  return me.user.role === "admin" || me.access.supervisor_lines.includes(c.line_id);
}

/** owner: may change the conversation (status, assignee, fields) — checkOwner. */
export function isOwner(me: Me, c: Conversation): boolean {
  return privileged(me, c) || c.assignee?.id === me.user.id;
}

/** handler: may write in it — checkHandler (the assignee, a participant, a supervisor). */
export function isHandler(me: Me, c: Conversation): boolean {
  return isOwner(me, c) || c.participants.some((p) => p.id === me.user.id);
}

export type Mode = "reply" | "note";

/** writeBlock is why the user may not write in this mode now (a strings key), or null. */
export function writeBlock(me: Me, c: Conversation, mode: Mode): Key | null {
  if (c.status === "closed") return "conv.block.closed";
  if (mode === "reply") {
    if (c.status === "paused") return "conv.block.paused";
    if (c.status === "queued" || !c.assignee) return "conv.block.notTaken";
    if (!isHandler(me, c)) return "conv.block.notAssignee";
    return null;
  }
  // Notes: anyone who sees a queued conversation may leave one; once someone handles it, the
  // reply rule applies (but a pause does not stop notes).
  if (c.assignee && !isHandler(me, c)) return "conv.block.notAssignee";
  return null;
}

const knownCodes = new Set([
  "file_too_large",
  "already_taken",
  "not_assignee",
  "conversation_paused",
  "conversation_closed",
  "conversation_not_taken",
  "unread_messages",
  "already_queued",
  "already_paused",
  "not_paused",
  "not_active",
  "same_assignee",
  "at_capacity",
  "not_queued",
  "active_dialog_exists",
  "open_conversation_exists",
  "not_failed",
]);

/** errorText turns a failed call into a sentence in the user's language. */
export function errorText(t: T, err: unknown): string {
  if (err instanceof ApiError) {
    if (knownCodes.has(err.code)) {
      // The API appends the holder's name in parentheses (already_taken, not_assignee).
      const who = /\(([^()]*)\)\s*$/.exec(err.message)?.[1] ?? "";
      return t(("conv.err." + err.code) as Key, { who: who || t("conv.err.someone") });
    }
    if (err.status === 0) return t("error.network");
    if (err.status === 403) return t("error.forbidden");
    if (err.status === 404) return t("error.notFound");
    if (err.status === 503) return t("error.unavailable");
    return t("error.generic", { message: err.message });
  }
  return t("error.generic", { message: err instanceof Error ? err.message : String(err) });
}

/** who names a user or the system. */
export function displayName(t: T, u: { name: string } | null | undefined): string {
  return u ? u.name : t("conv.system");
}

/** conversationPath keeps the user in the screen they are in (the inbox or the full view). */
export function conversationPath(n: number): string {
  return (typeof location !== "undefined" && location.pathname.startsWith("/inbox") ? "/inbox/" : "/conversations/") + n;
}
