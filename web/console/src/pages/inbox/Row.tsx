// One row of the inbox list and its ticking cells.
import { memo } from "react";
import { formatDuration, formatTime, useI18n } from "../../lib/i18n";
import type { Conversation } from "../../lib/types";
import type { Key } from "../../strings";
import { useNow } from "./ticker";

export interface Thresholds {
  warn: number;
  alert: number;
}

/** waitLevel is the colour class of a wait of `seconds` under the admin's thresholds. */
export function waitLevel(seconds: number, th: Thresholds): "ok" | "warn" | "alert" {
  if (seconds >= th.alert) return "alert";
  if (seconds >= th.warn) return "warn";
  return "ok";
}

/** earliestDue is the soonest of a conversation's SLA due times. */
export function earliestDue(c: Conversation): string | null {
  const all = [c.due.first_response, c.due.next_response, c.due.resolution].filter((d): d is string => !!d);
  if (all.length === 0) return null;
  return all.reduce((a, b) => (Date.parse(a) <= Date.parse(b) ? a : b));
}

function WaitTimer({ since, th }: { since: string; th: Thresholds }) {
  const { t, lang } = useI18n();
  const now = useNow();
  const secs = Math.max(0, (now - Date.parse(since)) / 1000);
  const level = waitLevel(secs, th);
  const d = formatDuration(lang, secs);
  return (
    <span className={"wait wait-" + level} data-level={level} title={t("inbox.waitingFor", { d })}>
      {d}
    </span>
  );
}

/** shortTime is a due time that fits its column: the time today, else day.month and time. */
function shortTime(lang: string, iso: string): string {
  const d = new Date(iso);
  const loc = lang === "ru" ? "ru-RU" : "en-GB";
  if (d.toDateString() === new Date().toDateString()) return d.toLocaleTimeString(loc, { hour: "2-digit", minute: "2-digit" });
  const dd = d.toLocaleDateString(loc, { day: "2-digit", month: "2-digit" });
  return dd + " " + d.toLocaleTimeString(loc, { hour: "2-digit", minute: "2-digit" });
}

function Due({ c }: { c: Conversation }) {
  const { t, lang } = useI18n();
  const now = useNow();
  const due = earliestDue(c);
  if (!due) return null;
  const over = c.overdue || Date.parse(due) <= now;
  return (
    <span className={over ? "due overdue" : "due"} data-overdue={over ? "true" : "false"} title={formatTime(lang, due, true)}>
      {shortTime(lang, due)}
      {over && <span className="visually-hidden"> {t("inbox.overdue")}</span>}
    </span>
  );
}

export interface RowProps {
  c: Conversation;
  href: string;
  active: boolean;
  checked: boolean;
  th: Thresholds;
  onToggle: (n: number) => void;
  onOpen: (n: number) => void;
}

export const Row = memo(function Row({ c, href, active, checked, th, onToggle, onOpen }: RowProps) {
  const { t } = useI18n();
  const who = c.contact.name || c.contact.email || c.contact.phone || "—";
  const last = c.last_message;
  return (
    <tr
      className={"row" + (active ? " active" : "") + (c.unread > 0 ? " has-unread" : "")}
      data-number={c.number}
      aria-current={active ? "true" : undefined}
      onClick={(e) => {
        const el = e.target as HTMLElement;
        if (el.closest("input,a,button,label")) return;
        onOpen(c.number);
      }}
    >
      <td className="pick">
        <input type="checkbox" checked={checked} onChange={() => onToggle(c.number)} aria-label={t("inbox.select", { n: c.number })} />
      </td>
      <td className="who">
        <a
          href={href}
          onClick={(e) => {
            if (e.ctrlKey || e.metaKey || e.button !== 0) return;
            e.preventDefault();
            onOpen(c.number);
          }}
        >
          <span className="num">№{c.number}</span> {who}
        </a>
        {c.unread > 0 && (
          <span className="unread" aria-label={t("inbox.unreadBadge", { n: c.unread })} title={t("inbox.unreadBadge", { n: c.unread })}>
            {c.unread}
          </span>
        )}
        <div className="sub">
          <span className={"kind kind-" + c.channel.kind}>{c.channel.name}</span>
          {last ? (
            <span className={"last dir-" + last.direction}>
              {" · "}
              {last.direction === "out" ? t("inbox.you") : ""}
              {last.text}
            </span>
          ) : null}
        </div>
      </td>
      <td className="waiting">{c.waiting_since ? <WaitTimer since={c.waiting_since} th={th} /> : null}</td>
      <td className="due-cell">
        <Due c={c} />
      </td>
      <td className="assignee">{c.assignee?.name ?? <span className="muted">{t("inbox.nobody")}</span>}</td>
      <td className={"status status-" + c.status}>{t(("inbox.status." + c.status) as Key)}</td>
    </tr>
  );
});
