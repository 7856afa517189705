// Inbox settings (seed 002, "настройки модуля"): which channel folders and conversation statuses
// the inbox shows, and after how long a waiting client turns the timer amber and then red.
import { useEffect, useState, type FormEvent } from "react";
import { api } from "../../lib/api";
import { useT } from "../../lib/i18n";
import type { Key } from "../../strings";
import { AdminLayout } from "../admin/AdminLayout";
import type { ConsoleSettings } from "../Inbox";
import { Flash, Problems, problemsOf, useFlash, useResource } from "./shared";
import "./settings.css";

export const channelKinds = ["telegram", "vk", "viber", "facebook", "instagram", "whatsapp", "ok", "email", "webchat", "phone", "api", "internal"] as const;
const statuses = ["queued", "active", "paused", "closed"] as const;
const maxMinutes = 7 * 24 * 60;

interface Draft {
  warn: string;
  alert: string;
  kinds: string[];
  statuses: string[];
}

export function InboxSettings() {
  const t = useT();
  const res = useResource(() => api.get<ConsoleSettings>("/api/v1/console-settings"), []);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [problems, setProblems] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);
  const [flash, setFlash] = useFlash();
  useEffect(() => {
    const v = res.value;
    if (v) setDraft({ warn: String(v.wait_warn_seconds / 60), alert: String(v.wait_alert_seconds / 60), kinds: [...v.channel_kinds], statuses: [...v.statuses] });
  }, [res.value]);

  const save = async (ev: FormEvent) => {
    ev.preventDefault();
    if (!draft) return;
    const warn = Number(draft.warn);
    const alert = Number(draft.alert);
    const local: string[] = [];
    for (const [v, label] of [
      [warn, t("settings.inbox.warn")],
      [alert, t("settings.inbox.alert")],
    ] as const) {
      if (!Number.isFinite(v) || v <= 0 || v > maxMinutes || Math.round(v * 60) !== v * 60) local.push(t("settings.inbox.err.minutes", { field: label, max: maxMinutes }));
    }
    if (local.length === 0 && warn >= alert) local.push(t("settings.inbox.err.order"));
    if (draft.statuses.length === 0) local.push(t("settings.inbox.err.statuses"));
    if (local.length) {
      setProblems([t("settings.fixFirst"), ...local]);
      return;
    }
    setProblems([]);
    setSaving(true);
    try {
      res.setValue(
        await api.put<ConsoleSettings>("/api/v1/console-settings", {
          wait_warn_seconds: Math.round(warn * 60),
          wait_alert_seconds: Math.round(alert * 60),
          channel_kinds: draft.kinds,
          statuses: draft.statuses,
        }),
      );
      setFlash(t("common.saved"));
    } catch (err) {
      setProblems(problemsOf(t, err));
    } finally {
      setSaving(false);
    }
  };

  const toggle = (list: string[], v: string, on: boolean) => (on ? [...list, v] : list.filter((x) => x !== v));

  return (
    <AdminLayout>
      <section className="settings" aria-labelledby="is-title">
        <h1 id="is-title">{t("settings.inbox.title")}</h1>
        <Problems lines={res.error} />
        {!draft ? (
          !res.error.length && <p className="empty">{t("common.loading")}</p>
        ) : (
          <form className="settings-form" onSubmit={(e) => void save(e)} noValidate aria-labelledby="is-title">
            <fieldset>
              <legend>{t("settings.inbox.waiting")}</legend>
              <p className="hint">{t("settings.inbox.waitingHint")}</p>
              <div className="settings-grid">
                <div className="settings-field">
                  <label htmlFor="is-warn">{t("settings.inbox.warn")}</label>
                  <input id="is-warn" type="number" min={1} max={maxMinutes} value={draft.warn} onChange={(e) => setDraft({ ...draft, warn: e.target.value })} />
                </div>
                <div className="settings-field">
                  <label htmlFor="is-alert">{t("settings.inbox.alert")}</label>
                  <input id="is-alert" type="number" min={1} max={maxMinutes} value={draft.alert} onChange={(e) => setDraft({ ...draft, alert: e.target.value })} />
                </div>
              </div>
            </fieldset>
            <fieldset>
              <legend>{t("settings.inbox.statuses")}</legend>
              <p className="hint">{t("settings.inbox.statusesHint")}</p>
              {statuses.map((s) => (
                <label className="settings-check" key={s}>
                  <input type="checkbox" checked={draft.statuses.includes(s)} onChange={(e) => setDraft({ ...draft, statuses: toggle(draft.statuses, s, e.target.checked) })} />
                  {t(("settings.status." + s) as Key)}
                </label>
              ))}
            </fieldset>
            <fieldset>
              <legend>{t("settings.inbox.kinds")}</legend>
              <p className="hint">{t("settings.inbox.kindsHint")}</p>
              {channelKinds.map((k) => (
                <label className="settings-check" key={k}>
                  <input type="checkbox" checked={draft.kinds.includes(k)} onChange={(e) => setDraft({ ...draft, kinds: toggle(draft.kinds, k, e.target.checked) })} />
                  {t(("inbox.kind." + k) as Key)}
                </label>
              ))}
            </fieldset>
            <Problems lines={problems} />
            <div className="settings-actions">
              <button type="submit" className="primary" disabled={saving}>
                {saving ? t("settings.saving") : t("common.save")}
              </button>
              <Flash text={flash} />
            </div>
          </form>
        )}
      </section>
    </AdminLayout>
  );
}
