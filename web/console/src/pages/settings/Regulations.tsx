// Regulations (SLA): the targets a line's conversations are held to and the business-hours
// calendar they are counted in (seed 004, "Регламенты"). The calendar is checked here the way
// the server checks it (workflows.Calendar.Validate), so a bad interval never leaves the page.
import { useState, type FormEvent } from "react";
import { api, ApiError } from "../../lib/api";
import { formatTime, useI18n, useT, type T } from "../../lib/i18n";
import { linkHandler, navigate, type Location } from "../../lib/router";
import type { Key } from "../../strings";
import { AdminLayout } from "../admin/AdminLayout";
import { Flash, Problems, problemsOf, useFlash, useResource } from "./shared";
import "./settings.css";

export const weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof weekdays)[number];

export interface Period {
  start: string;
  end: string;
}

export interface Calendar {
  time_zone: string;
  week: Partial<Record<Weekday, Period[]>>;
  holidays?: string[];
}

export interface Regulation {
  id: number;
  name: string;
  first_response_minutes: number;
  next_response_minutes: number;
  resolution_minutes: number;
  warn_before_minutes: number;
  pause_stops_clock: boolean;
  calendar: Calendar | Record<string, never>;
  created_at: string;
  updated_at: string;
}

const targets = ["first_response_minutes", "next_response_minutes", "resolution_minutes", "warn_before_minutes"] as const;
type Target = (typeof targets)[number];
const maxMinutes = 60 * 24 * 366;

/** Draft is the form's state: numbers as typed, the calendar with every weekday present. */
export interface Draft {
  name: string;
  targets: Record<Target, string>;
  pause_stops_clock: boolean;
  time_zone: string;
  week: Record<Weekday, Period[]>;
  holidays: string[];
}

export function draftOf(r: Regulation | null): Draft {
  const cal = (r?.calendar ?? {}) as Partial<Calendar>;
  const week = {} as Record<Weekday, Period[]>;
  for (const d of weekdays) week[d] = (cal.week?.[d] ?? []).map((p) => ({ ...p }));
  if (!r) for (const d of weekdays.slice(0, 5)) week[d] = [{ start: "09:00", end: "18:00" }];
  return {
    name: r?.name ?? "",
    targets: {
      first_response_minutes: String(r?.first_response_minutes ?? 0),
      next_response_minutes: String(r?.next_response_minutes ?? 0),
      resolution_minutes: String(r?.resolution_minutes ?? 0),
      warn_before_minutes: String(r?.warn_before_minutes ?? 0),
    },
    pause_stops_clock: r?.pause_stops_clock ?? false,
    time_zone: cal.time_zone ?? "",
    week,
    holidays: [...(cal.holidays ?? [])],
  };
}

/** bodyOf is what the API receives for a draft. */
export function bodyOf(d: Draft) {
  const week = {} as Record<Weekday, Period[]>;
  for (const day of weekdays) week[day] = d.week[day].map((p) => ({ start: p.start.trim(), end: p.end.trim() }));
  return {
    name: d.name.trim(),
    first_response_minutes: Number(d.targets.first_response_minutes),
    next_response_minutes: Number(d.targets.next_response_minutes),
    resolution_minutes: Number(d.targets.resolution_minutes),
    warn_before_minutes: Number(d.targets.warn_before_minutes),
    pause_stops_clock: d.pause_stops_clock,
    calendar: { time_zone: d.time_zone.trim(), week, holidays: [...d.holidays].sort() },
  };
}

/** clock reads a strict HH:MM between 00:00 and 24:00 as minutes, or null. */
export function clock(s: string): number | null {
  const m = /^(\d\d):(\d\d)$/.exec(s.trim());
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (min > 59 || h > 24 || (h === 24 && min !== 0)) return null;
  return h * 60 + min;
}

function validZone(z: string): boolean {
  if (z.trim() === "") return true;
  try {
    new Intl.DateTimeFormat("en", { timeZone: z.trim() });
    return true;
  } catch {
    return false;
  }
}

/** Problem is one thing wrong with a draft: the field (an input's id) and what to say. */
export interface Problem {
  field: string;
  text: string;
}

export function fieldId(day: Weekday, i: number, part: "start" | "end") {
  return `reg-${day}-${i}-${part}`;
}

/** validate finds what the server would refuse, in the user's words. */
export function validate(t: T, d: Draft): Problem[] {
  const out: Problem[] = [];
  if (!d.name.trim()) out.push({ field: "reg-name", text: t("settings.reg.err.name") });
  for (const k of targets) {
    const v = d.targets[k].trim();
    if (!/^\d+$/.test(v) || Number(v) > maxMinutes)
      out.push({ field: "reg-" + k, text: t("settings.reg.err.minutes", { field: t(("settings.reg." + k) as Key), max: maxMinutes }) });
  }
  if (!validZone(d.time_zone)) out.push({ field: "reg-tz", text: t("settings.reg.err.zone", { zone: d.time_zone }) });
  for (const day of weekdays) {
    const dayName = t(("settings.day." + day) as Key);
    const spans: { s: number; e: number; i: number }[] = [];
    d.week[day].forEach((p, i) => {
      const s = clock(p.start);
      const e = clock(p.end);
      if (s === null) out.push({ field: fieldId(day, i, "start"), text: t("settings.reg.err.clock", { day: dayName, n: i + 1, value: p.start }) });
      if (e === null) out.push({ field: fieldId(day, i, "end"), text: t("settings.reg.err.clock", { day: dayName, n: i + 1, value: p.end }) });
      if (s === null || e === null) return;
      if (s >= e) {
        out.push({ field: fieldId(day, i, "end"), text: t("settings.reg.err.order", { day: dayName, n: i + 1, start: p.start, end: p.end }) });
        return;
      }
      spans.push({ s, e, i });
    });
    spans.sort((a, b) => a.s - b.s || a.i - b.i);
    for (let j = 1; j < spans.length; j++) {
      const reach = spans.slice(0, j).reduce((m, x) => Math.max(m, x.e), 0);
      if (spans[j].s < reach)
        out.push({ field: fieldId(day, spans[j].i, "start"), text: t("settings.reg.err.overlap", { day: dayName, n: spans[j].i + 1 }) });
    }
  }
  const seen = new Set<string>();
  d.holidays.forEach((h, i) => {
    if (!/^\d{4}-\d\d-\d\d$/.test(h) || isNaN(Date.parse(h))) out.push({ field: "reg-holiday-new", text: t("settings.reg.err.holiday", { value: h }) });
    else if (seen.has(h)) out.push({ field: "reg-holiday-new", text: t("settings.reg.err.holidayTwice", { value: h, n: i + 1 }) });
    seen.add(h);
  });
  return out;
}

/** Regulations is the list of regulations and, at /admin/regulations/:id or /new, one's editor. */
export function Regulations({ loc }: { loc: Location }) {
  const t = useT();
  const sub = loc.path.replace(/^\/admin\/regulations\/?/, "");
  const list = useResource(() => api.get<{ items: Regulation[] }>("/api/v1/regulations").then((r) => r.items), []);
  const lines = useResource(() => api.get<{ items: { id: number; name: string; regulation_id: number | null }[] }>("/api/v1/lines").then((r) => r.items), []);
  const editing = sub === "new" ? null : list.value?.find((r) => String(r.id) === sub);

  return (
    <AdminLayout>
      <section className="settings" aria-labelledby="reg-title">
        <h1 id="reg-title">{t("settings.reg.title")}</h1>
        <Problems lines={list.error} />
        {sub === "" ? (
          <RegulationList items={list.value} lines={lines.value ?? []} />
        ) : sub !== "new" && list.value && !editing ? (
          <p className="empty">{t("error.notFound")}</p>
        ) : sub !== "new" && !list.value ? (
          <p className="empty">{t("common.loading")}</p>
        ) : (
          <RegulationEditor
            key={sub}
            regulation={editing ?? null}
            onSaved={(r) => {
              void list.reload().then(() => {
                if (sub === "new") navigate("/admin/regulations/" + r.id, true);
              });
            }}
          />
        )}
      </section>
    </AdminLayout>
  );
}

function RegulationList({ items, lines }: { items: Regulation[] | null; lines: { id: number; name: string; regulation_id: number | null }[] }) {
  const { t, lang } = useI18n();
  const mins = (n: number) => (n > 0 ? t("settings.reg.minutesShort", { n }) : t("settings.reg.noTarget"));
  return (
    <>
      <p>
        <a className="button primary" href="/admin/regulations/new" onClick={linkHandler("/admin/regulations/new")}>
          {t("settings.reg.new")}
        </a>
      </p>
      {items === null ? (
        <p className="empty">{t("common.loading")}</p>
      ) : items.length === 0 ? (
        <p className="empty">{t("settings.reg.empty")}</p>
      ) : (
        <table className="list">
          <thead>
            <tr>
              <th scope="col">{t("settings.reg.name")}</th>
              <th scope="col">{t("settings.reg.first_response_minutes")}</th>
              <th scope="col">{t("settings.reg.next_response_minutes")}</th>
              <th scope="col">{t("settings.reg.resolution_minutes")}</th>
              <th scope="col">{t("settings.reg.zone")}</th>
              <th scope="col">{t("settings.reg.lines")}</th>
              <th scope="col">{t("settings.updated")}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((r) => (
              <tr key={r.id}>
                <td>
                  <a href={"/admin/regulations/" + r.id} onClick={linkHandler("/admin/regulations/" + r.id)}>
                    {r.name}
                  </a>
                </td>
                <td>{mins(r.first_response_minutes)}</td>
                <td>{mins(r.next_response_minutes)}</td>
                <td>{mins(r.resolution_minutes)}</td>
                <td>{(r.calendar as Partial<Calendar>).time_zone || "UTC"}</td>
                <td>
                  {lines
                    .filter((l) => l.regulation_id === r.id)
                    .map((l) => l.name)
                    .join(", ") || <span className="muted">{t("settings.reg.noLines")}</span>}
                </td>
                <td>{formatTime(lang, r.updated_at, true)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

const zones: string[] = (() => {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return [];
  }
})();

/** RegulationEditor edits one regulation (or a new one) with its calendar. */
export function RegulationEditor({ regulation, onSaved }: { regulation: Regulation | null; onSaved: (r: Regulation) => void }) {
  const t = useT();
  const [d, setD] = useState<Draft>(() => draftOf(regulation));
  const [shown, setShown] = useState<Problem[]>([]);
  const [serverErr, setServerErr] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);
  const [newHoliday, setNewHoliday] = useState("");
  const [flash, setFlash] = useFlash();

  const bad = new Set(shown.map((p) => p.field));
  const change = (f: (d: Draft) => Draft) => setD((cur) => f(cur));
  const setPeriod = (day: Weekday, i: number, part: "start" | "end", v: string) =>
    change((c) => ({ ...c, week: { ...c.week, [day]: c.week[day].map((p, j) => (j === i ? { ...p, [part]: v } : p)) } }));
  const addPeriod = (day: Weekday) =>
    change((c) => {
      const last = c.week[day][c.week[day].length - 1];
      const next = last ? { start: last.end, end: "24:00" } : { start: "09:00", end: "18:00" };
      return { ...c, week: { ...c.week, [day]: [...c.week[day], next] } };
    });
  const removePeriod = (day: Weekday, i: number) => change((c) => ({ ...c, week: { ...c.week, [day]: c.week[day].filter((_, j) => j !== i) } }));
  const copyToWeekdays = (from: Weekday) =>
    change((c) => {
      const week = { ...c.week };
      for (const day of weekdays.slice(0, 5)) week[day] = c.week[from].map((p) => ({ ...p }));
      return { ...c, week };
    });
  const clearWeek = () => change((c) => ({ ...c, week: Object.fromEntries(weekdays.map((x) => [x, []])) as unknown as Record<Weekday, Period[]> }));
  const addHoliday = () => {
    const v = newHoliday.trim();
    if (!v) return;
    change((c) => ({ ...c, holidays: c.holidays.includes(v) ? c.holidays : [...c.holidays, v].sort() }));
    setNewHoliday("");
  };

  const aroundTheClock = weekdays.every((x) => d.week[x].length === 0);

  const save = async (ev: FormEvent) => {
    ev.preventDefault();
    const problems = validate(t, d);
    setShown(problems);
    setServerErr([]);
    if (problems.length > 0) {
      document.getElementById(problems[0].field)?.focus();
      return;
    }
    setSaving(true);
    try {
      const body = bodyOf(d);
      const saved = regulation
        ? await api.patch<Regulation>("/api/v1/regulations/" + regulation.id, body)
        : await api.post<Regulation>("/api/v1/regulations", body);
      setFlash(t("common.saved"));
      onSaved(saved);
    } catch (err) {
      setServerErr(err instanceof ApiError && err.status === 503 ? [t("settings.reg.savedNotTold"), err.message] : problemsOf(t, err));
    } finally {
      setSaving(false);
    }
  };

  const inv = (id: string) => (bad.has(id) ? { "aria-invalid": true as const, "aria-describedby": "reg-problems" } : {});

  return (
    <form className="settings-form" onSubmit={(e) => void save(e)} noValidate aria-label={regulation ? t("settings.reg.editTitle", { name: regulation.name }) : t("settings.reg.new")}>
      <p>
        <a href="/admin/regulations" onClick={linkHandler("/admin/regulations")}>
          ← {t("settings.reg.back")}
        </a>
      </p>
      <h2>{regulation ? t("settings.reg.editTitle", { name: regulation.name }) : t("settings.reg.new")}</h2>
      <div className="settings-field">
        <label htmlFor="reg-name">{t("settings.reg.name")}</label>
        <input id="reg-name" value={d.name} maxLength={200} onChange={(e) => change((c) => ({ ...c, name: e.target.value }))} {...inv("reg-name")} />
      </div>

      <fieldset>
        <legend>{t("settings.reg.targets")}</legend>
        <p className="hint">{t("settings.reg.targetsHint")}</p>
        <div className="settings-grid">
          {targets.map((k) => (
            <div className="settings-field" key={k}>
              <label htmlFor={"reg-" + k}>{t(("settings.reg." + k) as Key)}</label>
              <input
                id={"reg-" + k}
                type="number"
                min={0}
                max={maxMinutes}
                step={1}
                inputMode="numeric"
                value={d.targets[k]}
                onChange={(e) => change((c) => ({ ...c, targets: { ...c.targets, [k]: e.target.value } }))}
                {...inv("reg-" + k)}
              />
            </div>
          ))}
        </div>
        <label className="settings-check">
          <input type="checkbox" checked={d.pause_stops_clock} onChange={(e) => change((c) => ({ ...c, pause_stops_clock: e.target.checked }))} />
          {t("settings.reg.pauseStops")}
        </label>
      </fieldset>

      <fieldset>
        <legend>{t("settings.reg.calendar")}</legend>
        <div className="settings-field">
          <label htmlFor="reg-tz">{t("settings.reg.zone")}</label>
          <input id="reg-tz" list="reg-tz-list" value={d.time_zone} placeholder="UTC" onChange={(e) => change((c) => ({ ...c, time_zone: e.target.value }))} {...inv("reg-tz")} />
          <datalist id="reg-tz-list">
            {zones.map((z) => (
              <option key={z} value={z} />
            ))}
          </datalist>
        </div>
        <p className="hint">{aroundTheClock ? t("settings.reg.allDay") : t("settings.reg.hoursHint")}</p>
        <table className="settings-week">
          <caption className="visually-hidden">{t("settings.reg.hours")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("settings.reg.day")}</th>
              <th scope="col">{t("settings.reg.intervals")}</th>
              <th scope="col">
                <span className="visually-hidden">{t("settings.actions")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {weekdays.map((day) => {
              const dayName = t(("settings.day." + day) as Key);
              return (
                <tr key={day}>
                  <th scope="row">{dayName}</th>
                  <td>
                    {d.week[day].length === 0 && <span className="muted">{aroundTheClock ? t("settings.reg.open24") : t("settings.reg.closed")}</span>}
                    {d.week[day].map((p, i) => (
                      <span className="settings-interval" key={i}>
                        <input
                          id={fieldId(day, i, "start")}
                          className="clock"
                          value={p.start}
                          placeholder="09:00"
                          aria-label={t("settings.reg.startOf", { day: dayName, n: i + 1 })}
                          onChange={(e) => setPeriod(day, i, "start", e.target.value)}
                          {...inv(fieldId(day, i, "start"))}
                        />
                        –
                        <input
                          id={fieldId(day, i, "end")}
                          className="clock"
                          value={p.end}
                          placeholder="18:00"
                          aria-label={t("settings.reg.endOf", { day: dayName, n: i + 1 })}
                          onChange={(e) => setPeriod(day, i, "end", e.target.value)}
                          {...inv(fieldId(day, i, "end"))}
                        />
                        <button type="button" className="link" aria-label={t("settings.reg.removeInterval", { day: dayName, n: i + 1 })} onClick={() => removePeriod(day, i)}>
                          ×
                        </button>
                      </span>
                    ))}
                  </td>
                  <td className="nowrap">
                    <button type="button" onClick={() => addPeriod(day)} aria-label={t("settings.reg.addInterval", { day: dayName })}>
                      + {t("settings.reg.interval")}
                    </button>{" "}
                    {day === "mon" && (
                      <button type="button" onClick={() => copyToWeekdays("mon")}>
                        {t("settings.reg.copyWeekdays")}
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <p>
          <button type="button" onClick={clearWeek}>
            {t("settings.reg.makeAllDay")}
          </button>
        </p>

        <h3 id="reg-holidays">{t("settings.reg.holidays")}</h3>
        <p className="hint">{t("settings.reg.holidaysHint")}</p>
        {d.holidays.length === 0 ? (
          <p className="muted">{t("settings.reg.noHolidays")}</p>
        ) : (
          <ul className="settings-chips" aria-labelledby="reg-holidays">
            {d.holidays.map((h) => (
              <li key={h}>
                {h}
                <button type="button" className="link" aria-label={t("settings.reg.removeHoliday", { date: h })} onClick={() => change((c) => ({ ...c, holidays: c.holidays.filter((x) => x !== h) }))}>
                  ×
                </button>
              </li>
            ))}
          </ul>
        )}
        <div className="settings-row">
          <label htmlFor="reg-holiday-new" className="visually-hidden">
            {t("settings.reg.holidayDate")}
          </label>
          <input
            id="reg-holiday-new"
            type="date"
            value={newHoliday}
            onChange={(e) => setNewHoliday(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter") {
                e.preventDefault();
                addHoliday();
              }
            }}
            {...inv("reg-holiday-new")}
          />
          <button type="button" onClick={addHoliday} disabled={!newHoliday}>
            {t("settings.reg.addHoliday")}
          </button>
        </div>
      </fieldset>

      {shown.length > 0 && <Problems id="reg-problems" lines={[t("settings.fixFirst"), ...shown.map((p) => p.text)]} />}
      <Problems lines={serverErr} />
      <div className="settings-actions">
        <button type="submit" className="primary" disabled={saving}>
          {saving ? t("settings.saving") : t("common.save")}
        </button>
        <Flash text={flash} />
      </div>
    </form>
  );
}
