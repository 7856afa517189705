// The visitors on the sites of the supervisor's lines right now (seed 002: "посетители Вашего
// сайта"): the page each is on, where they came from, their address and browser, and their open
// conversation. Visitors ping every half minute; the list refreshes as often.
import { useCallback, useEffect, useState } from "react";
import { api } from "../../lib/api";
import { formatTime, useI18n } from "../../lib/i18n";
import { linkHandler } from "../../lib/router";
import { ErrorNote } from "../admin/channels/form";
import { SupervisorTabs } from "./Tabs";
import "./supervisor.css";

export interface LiveVisitor {
  id: string;
  site: string;
  name: string;
  email: string;
  page_url: string;
  page_title: string;
  referrer: string;
  ip: string;
  user_agent: string;
  seen_at: string;
  conversation: number | null;
}

/** browserOf names the browser from a user agent, briefly. */
export function browserOf(ua: string): string {
  const m = /(Edg|OPR|YaBrowser|Firefox|Chrome|Safari)\/(\d+)/.exec(ua);
  if (!m) return ua.slice(0, 40);
  const names: Record<string, string> = { Edg: "Edge", OPR: "Opera", YaBrowser: "Yandex Browser" };
  return `${names[m[1]] ?? m[1]} ${m[2]}`;
}

export function SupervisorVisitors() {
  const { t, lang } = useI18n();
  const [items, setItems] = useState<LiveVisitor[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    try {
      setItems((await api.get<{ items: LiveVisitor[] }>("/api/v1/visitors")).items);
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, []);
  useEffect(() => {
    void load();
    const id = setInterval(() => void load(), 15_000);
    return () => clearInterval(id);
  }, [load]);

  return (
    <section className="supervisor" aria-labelledby="sup-visitors-title">
      <SupervisorTabs current="visitors" />
      <div className="board">
        <h1 id="sup-visitors-title">{t("supervisor.visitors.title")}</h1>
        <ErrorNote error={error} />
        {items === null && !error && <p>{t("common.loading")}</p>}
        {items && items.length === 0 && <p className="empty">{t("supervisor.visitors.empty")}</p>}
        {items && items.length > 0 && (
          <table className="list visitors">
            <thead>
              <tr>
                <th scope="col">{t("supervisor.visitors.visitor")}</th>
                <th scope="col">{t("supervisor.visitors.site")}</th>
                <th scope="col">{t("supervisor.visitors.page")}</th>
                <th scope="col">{t("supervisor.visitors.referrer")}</th>
                <th scope="col">{t("supervisor.visitors.ip")}</th>
                <th scope="col">{t("supervisor.visitors.browser")}</th>
                <th scope="col">{t("supervisor.visitors.seen")}</th>
                <th scope="col">{t("supervisor.visitors.conversation")}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((v) => (
                <tr key={v.id} data-visitor={v.id}>
                  <td>{v.name || t("supervisor.visitors.anonymous")}{v.email && <small> · {v.email}</small>}</td>
                  <td>{v.site}</td>
                  <td><a href={v.page_url} target="_blank" rel="noopener noreferrer">{v.page_title || v.page_url}</a></td>
                  <td>{v.referrer ? <span title={v.referrer}>{hostOf(v.referrer)}</span> : t("common.none")}</td>
                  <td>{v.ip}</td>
                  <td title={v.user_agent}>{browserOf(v.user_agent)}</td>
                  <td>{formatTime(lang, v.seen_at, true)}</td>
                  <td>{v.conversation ? <a href={`/inbox/${v.conversation}`} onClick={linkHandler(`/inbox/${v.conversation}`)}>#{v.conversation}</a> : t("common.none")}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </section>
  );
}

function hostOf(u: string): string {
  try {
    return new URL(u).hostname;
  } catch {
    return u;
  }
}
