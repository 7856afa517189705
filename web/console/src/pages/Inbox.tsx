import { useCallback, useEffect, useState } from "react";
import { api, query } from "../lib/api";
import { events } from "../lib/events";
import { formatTime, useI18n } from "../lib/i18n";
import { linkHandler, type Location } from "../lib/router";
import { can, useSession } from "../lib/session";
import type { Conversation } from "../lib/types";
import type { Key } from "../strings";

type View = "unassigned" | "mine" | "all" | "dialogs";

/** Inbox lists conversations by view and keeps the list current from the live events. */
export function Inbox({ loc }: { loc: Location }) {
  const { t, lang } = useI18n();
  const me = useSession();
  const views: View[] = (["unassigned", "mine", "all", "dialogs"] as View[]).filter(
    (v) => v !== "unassigned" || can(me, "unassigned_queue") || me.access.queue_lines.length > 0 || me.access.supervisor_lines.length > 0,
  );
  const view = (views.includes(loc.params.get("view") as View) ? loc.params.get("view") : "mine") as View;
  const [items, setItems] = useState<Conversation[] | null>(null);

  const load = useCallback(async () => {
    const r = await api.get<{ items: Conversation[] }>("/api/v1/conversations" + query({ view, sort: "activity", limit: 100 }));
    setItems(r.items);
  }, [view]);

  useEffect(() => {
    void load();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const reload = () => {
      clearTimeout(timer);
      timer = setTimeout(() => void load(), 150);
    };
    const offEvents = events.subscribe((e) => {
      if (e.conversation !== undefined || e.kind.startsWith("conversation.")) reload();
    });
    const offReset = events.onReset(reload);
    return () => {
      clearTimeout(timer);
      offEvents();
      offReset();
    };
  }, [load]);

  return (
    <section className="inbox">
      <nav className="views" aria-label={t("nav.inbox")}>
        {views.map((v) => (
          <a key={v} href={"/inbox?view=" + v} onClick={linkHandler("/inbox?view=" + v)} aria-current={v === view ? "page" : undefined}>
            {t(("inbox.view." + v) as Key)}
          </a>
        ))}
      </nav>
      {items === null ? (
        <p className="empty">{t("common.loading")}</p>
      ) : items.length === 0 ? (
        <p className="empty">{t("inbox.empty")}</p>
      ) : (
        <table className="list">
          <thead>
            <tr>
              <th>№</th>
              <th>{t("inbox.col.contact")}</th>
              <th>{t("inbox.col.channel")}</th>
              <th>{t("inbox.col.status")}</th>
              <th>{t("inbox.col.assignee")}</th>
              <th>{t("inbox.col.created")}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((c) => (
              <tr key={c.number} data-number={c.number}>
                <td>{c.number}</td>
                <td>{c.contact.name || c.contact.email || c.contact.phone}</td>
                <td>{c.channel.name}</td>
                <td className={"status status-" + c.status}>{t(("inbox.status." + c.status) as Key)}</td>
                <td>{c.assignee?.name ?? t("inbox.nobody")}</td>
                <td>{formatTime(lang, c.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
