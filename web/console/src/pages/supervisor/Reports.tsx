// Reports (issue 12, F047, F100): what a period's conversations came to on the supervisor's
// lines, by day, line, channel or operator — a chart where looking beats reading, the table with
// times in business hours and both ratings, and each as a file (CSV, XLSX), with the dialog report.
import { useEffect, useState, type FormEvent } from "react";
import { api, query } from "../../lib/api";
import { formatDuration, useI18n } from "../../lib/i18n";
import { isSupervisor, useSession } from "../../lib/session";
import { ErrorNote } from "../admin/channels/form";
import { SupervisorTabs } from "./Tabs";
import "./supervisor.css";

interface Times {
  count: number;
  median_seconds: number | null;
  p90_seconds: number | null;
}
interface Ratings {
  bad: number;
  normal: number;
  excellent: number;
  score: number | null;
}
export interface ReportRow {
  key: string;
  label: string;
  opened: number;
  closed: number;
  first_response: Times;
  resolution: Times;
  sla_met: number;
  sla_breached: number;
  csat: Ratings;
  client_ratings: Ratings;
}
export interface Report {
  group: string;
  rows: ReportRow[];
  total: ReportRow;
  backlog: { at: string; open: number }[] | null;
}

const groups = ["day", "line", "channel", "operator"] as const;
const dayOf = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

/** Chart draws opened and closed bars per row, and the backlog as a line when there is one. */
export function Chart({ report, label }: { report: Report; label: string }) {
  const { t } = useI18n();
  const rows = report.rows;
  const backlog = report.backlog ?? [];
  const top = Math.max(1, ...rows.flatMap((r) => [r.opened, r.closed]), ...backlog.map((b) => b.open));
  const w = Math.max(320, rows.length * 28), h = 180, pad = 20, slot = (w - pad) / Math.max(1, rows.length);
  const y = (v: number) => h - pad - (v / top) * (h - 2 * pad);
  return (
    <figure className="report-chart">
      <svg viewBox={`0 0 ${w} ${h}`} role="img" aria-label={label}>
        <line x1={pad} y1={h - pad} x2={w} y2={h - pad} className="axis" />
        <text x={2} y={pad} className="tick">{top}</text>
        {rows.map((r, i) => {
          const x = pad + i * slot, bw = Math.max(2, slot / 2 - 3);
          return (
            <g key={r.key} data-key={r.key}>
              <title>{`${r.label || t("supervisor.reports.nobody")}: ${t("supervisor.reports.opened")} ${r.opened}, ${t("supervisor.reports.closed")} ${r.closed}`}</title>
              <rect className="bar opened" x={x + 2} y={y(r.opened)} width={bw} height={h - pad - y(r.opened)} />
              <rect className="bar closed" x={x + 2 + bw} y={y(r.closed)} width={bw} height={h - pad - y(r.closed)} />
            </g>
          );
        })}
        {backlog.length > 0 && (
          <polyline className="backlog" fill="none" points={backlog.map((b, i) => `${pad + i * slot + slot / 2},${y(b.open)}`).join(" ")} />
        )}
      </svg>
      <figcaption>
        <span className="key opened" /> {t("supervisor.reports.opened")} <span className="key closed" /> {t("supervisor.reports.closed")}
        {backlog.length > 0 && <><span className="key backlog" /> {t("supervisor.reports.backlog")}</>}
      </figcaption>
    </figure>
  );
}

export function SupervisorReports() {
  const { t, lang } = useI18n();
  const me = useSession();
  const today = new Date();
  const [form, setForm] = useState({ from: dayOf(new Date(today.getTime() - 6 * 86400_000)), to: dayOf(today), group: "day", line: "" });
  const [shown, setShown] = useState(form);
  const [lines, setLines] = useState<{ id: number; name: string }[]>([]);
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<unknown>(null);
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const params = { from: shown.from, to: shown.to, group: shown.group, line: shown.line, tz };

  useEffect(() => {
    const mine = (l: { id: number }) => me.user.role === "admin" || me.access.supervisor_lines.includes(l.id);
    api.get<{ items: { id: number; name: string }[] }>("/api/v1/lines").then((r) => setLines(r.items.filter(mine)), () => setLines([]));
  }, [me]);
  useEffect(() => {
    let live = true;
    setReport(null);
    api.get<Report>("/api/v1/reports/conversations" + query({ from: shown.from, to: shown.to, group: shown.group, line: shown.line, tz })).then(
      (r) => live && (setReport(r), setError(null)),
      (err) => live && setError(err),
    );
    return () => {
      live = false;
    };
  }, [shown, tz]);

  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    setShown(form);
  };
  const times = (x: Times) => (x.median_seconds === null ? "—" : `${formatDuration(lang, x.median_seconds)} / ${formatDuration(lang, x.p90_seconds ?? 0)}`);
  const label = (r: ReportRow) => (r === report?.total ? t("supervisor.reports.total") : r.label || t("supervisor.reports.nobody"));

  if (!isSupervisor(me)) return null;
  return (
    <section className="supervisor" aria-labelledby="sup-reports-title">
      <SupervisorTabs current="reports" />
      <div className="board">
        <h1 id="sup-reports-title">{t("supervisor.reports.title")}</h1>
        <form className="report-filters" onSubmit={submit}>
          <label><span>{t("supervisor.reports.from")}</span>
            <input type="date" value={form.from} onChange={(e) => setForm({ ...form, from: e.target.value })} /></label>
          <label><span>{t("supervisor.reports.to")}</span>
            <input type="date" value={form.to} onChange={(e) => setForm({ ...form, to: e.target.value })} /></label>
          <label><span>{t("supervisor.reports.group")}</span>
            <select value={form.group} onChange={(e) => setForm({ ...form, group: e.target.value })}>
              {groups.map((g) => <option key={g} value={g}>{t(("supervisor.reports.group." + g) as "supervisor.reports.group.day")}</option>)}
            </select></label>
          <label><span>{t("supervisor.reports.line")}</span>
            <select value={form.line} onChange={(e) => setForm({ ...form, line: e.target.value })}>
              <option value="">{t("supervisor.reports.anyLine")}</option>
              {lines.map((l) => <option key={l.id} value={String(l.id)}>{l.name}</option>)}
            </select></label>
          <button type="submit">{t("supervisor.reports.show")}</button>
        </form>
        <p className="muted">{t("supervisor.reports.hint")}</p>
        <p className="report-downloads">
          {t("supervisor.reports.export")}{" "}
          <a href={"/api/v1/reports/conversations" + query({ ...params, format: "csv" })} download>CSV</a>{" · "}
          <a href={"/api/v1/reports/conversations" + query({ ...params, format: "xlsx" })} download>XLSX</a>{" · "}
          {t("supervisor.reports.dialogs")}{" "}
          <a href={"/api/v1/reports/dialogs" + query({ from: params.from, to: params.to, line: params.line, tz, format: "csv" })} download>CSV</a>{" · "}
          <a href={"/api/v1/reports/dialogs" + query({ from: params.from, to: params.to, line: params.line, tz, format: "xlsx" })} download>XLSX</a>
        </p>
        <ErrorNote error={error} />
        {!report && !error && <p>{t("common.loading")}</p>}
        {report && (
          <>
            <Chart report={report} label={t("supervisor.reports.chart")} />
            <table className="report-table">
              <thead>
                <tr>
                  <th scope="col">{t(("supervisor.reports.group." + report.group) as "supervisor.reports.group.day")}</th>
                  <th scope="col">{t("supervisor.reports.opened")}</th>
                  <th scope="col">{t("supervisor.reports.closed")}</th>
                  {report.backlog && <th scope="col">{t("supervisor.reports.backlog")}</th>}
                  <th scope="col">{t("supervisor.reports.firstResponse")}</th>
                  <th scope="col">{t("supervisor.reports.resolution")}</th>
                  <th scope="col">{t("supervisor.reports.sla")}</th>
                  <th scope="col">{t("supervisor.reports.csat")}</th>
                  <th scope="col">{t("supervisor.reports.score")}</th>
                  <th scope="col">{t("supervisor.reports.clientRatings")}</th>
                </tr>
              </thead>
              <tbody>
                {[...report.rows, report.total].map((r, i) => (
                  <tr key={r.key} className={r === report.total ? "total" : undefined}>
                    <th scope="row">{label(r)}</th>
                    <td>{r.opened}</td>
                    <td>{r.closed}</td>
                    {report.backlog && <td>{r === report.total ? "" : report.backlog[i]?.open ?? ""}</td>}
                    <td>{times(r.first_response)}</td>
                    <td>{times(r.resolution)}</td>
                    <td>{r.sla_met} / {r.sla_breached}</td>
                    <td>{r.csat.bad} / {r.csat.normal} / {r.csat.excellent}</td>
                    <td>{r.csat.score === null ? "—" : r.csat.score + "%"}</td>
                    <td>{r.client_ratings.bad} / {r.client_ratings.normal} / {r.client_ratings.excellent}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </div>
    </section>
  );
}
