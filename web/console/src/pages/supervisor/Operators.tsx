// How each operator of the supervisor's lines is doing today: presence, active chats against
// capacity, time since the last reply, and today's average first-response and response times.
// Live: presence changes and conversation events reload it.
import { useCallback, useEffect, useState } from "react";
import { api, query } from "../../lib/api";
import { formatDuration, formatTime, useI18n } from "../../lib/i18n";
import { useSession } from "../../lib/session";
import type { Presence } from "../../lib/types";
import { ErrorNote } from "../admin/channels/form";
import type { Items, LineInfo } from "../admin/channels/types";
import { useLiveReload } from "./live";
import { SupervisorTabs } from "./Tabs";
import "./supervisor.css";

export interface OperatorStats {
  id: number;
  name: string;
  presence: Presence;
  capacity: number;
  active: number;
  last_reply_at: string | null;
  since_last_reply_seconds: number | null;
  replies_today: number;
  avg_first_response_seconds: number | null;
  avg_response_seconds: number | null;
  first_responses_measured: number;
  responses_measured: number;
}

export function SupervisorOperators() {
  const { t, lang } = useI18n();
  const me = useSession();
  const [line, setLine] = useState("");
  const [lines, setLines] = useState<LineInfo[]>([]);
  const [items, setItems] = useState<OperatorStats[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [now, setNow] = useState(Date.now());

  useEffect(() => {
    const mine = (l: LineInfo) => me.user.role === "admin" || me.access.supervisor_lines.includes(l.id);
    api.get<Items<LineInfo>>("/api/v1/lines").then((r) => setLines(r.items.filter(mine)), () => setLines([]));
  }, [me]);

  const load = useCallback(async () => {
    try {
      const r = await api.get<{ items: OperatorStats[] }>("/api/v1/supervisor/operators" + query({ line }));
      setItems(r.items);
      setNow(Date.now());
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, [line]);
  useEffect(() => {
    void load();
  }, [load]);
  useLiveReload(load);
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), 10_000);
    return () => clearInterval(id);
  }, []);

  const dur = (s: number | null) => (s === null || s === undefined ? t("common.none") : formatDuration(lang, s));
  const since = (o: OperatorStats) => (o.last_reply_at ? formatDuration(lang, (now - new Date(o.last_reply_at).getTime()) / 1000) : t("common.none"));

  return (
    <section className="supervisor" aria-labelledby="sup-ops-title">
      <SupervisorTabs current="operators" />
      <div className="board">
        <h1 id="sup-ops-title">{t("supervisor.operators.title")}</h1>
        <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label={t("supervisor.filters")}>
          <label>
            <span>{t("supervisor.filter.line")}</span>
            <select value={line} onChange={(e) => setLine(e.target.value)}>
              <option value="">{t("supervisor.filter.allLines")}</option>
              {lines.map((l) => <option key={l.id} value={l.id}>{l.name}</option>)}
            </select>
          </label>
        </form>
        <ErrorNote error={error} />
        {items === null && !error && <p>{t("common.loading")}</p>}
        {items && items.length === 0 && <p className="empty">{t("supervisor.operators.empty")}</p>}
        {items && items.length > 0 && (
          <table className="list">
            <thead>
              <tr>
                <th scope="col">{t("supervisor.col.operator")}</th>
                <th scope="col">{t("supervisor.col.presence")}</th>
                <th scope="col">{t("supervisor.col.active")}</th>
                <th scope="col">{t("supervisor.col.sinceReply")}</th>
                <th scope="col">{t("supervisor.col.repliesToday")}</th>
                <th scope="col">{t("supervisor.col.avgFirst")}</th>
                <th scope="col">{t("supervisor.col.avgResponse")}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((o) => (
                <tr key={o.id}>
                  <td>{o.name}</td>
                  <td><span className={"presence-dot " + o.presence} aria-hidden="true" /> {t(("presence." + o.presence) as "presence.online")}</td>
                  <td className={o.capacity > 0 && o.active >= o.capacity ? "full" : undefined}>
                    {o.capacity > 0 ? t("supervisor.activeOf", { n: o.active, cap: o.capacity }) : o.active}
                  </td>
                  <td title={o.last_reply_at ? formatTime(lang, o.last_reply_at, true) : undefined}>{since(o)}</td>
                  <td>{o.replies_today}</td>
                  <td title={t("supervisor.measured", { n: o.first_responses_measured })}>{dur(o.avg_first_response_seconds)}</td>
                  <td title={t("supervisor.measured", { n: o.responses_measured })}>{dur(o.avg_response_seconds)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </section>
  );
}
