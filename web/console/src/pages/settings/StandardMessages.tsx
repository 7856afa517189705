// Standard messages (seed 003): the texts the desk sends on its own — the CSAT question and its
// three buttons, the thank-you, the auto-close notice — and, on the same screen, the presence
// rule (who may not go offline while holding conversations).
import { useEffect, useState, type FormEvent } from "react";
import { api } from "../../lib/api";
import { useT } from "../../lib/i18n";
import type { Key } from "../../strings";
import { AdminLayout } from "../admin/AdminLayout";
import { Flash, Problems, problemsOf, useFlash, useResource, charLength } from "./shared";
import "./settings.css";

const fields = ["csat_question", "csat_bad", "csat_normal", "csat_excellent", "csat_thanks", "auto_close"] as const;
type Field = (typeof fields)[number];
type Messages = Record<Field, string>;
const buttons = new Set<Field>(["csat_bad", "csat_normal", "csat_excellent"]);
const maxButton = 20;
const maxText = 4000;

const openStatuses = ["queued", "active", "paused"] as const;

export function StandardMessages() {
  const t = useT();
  return (
    <AdminLayout>
      <section className="settings" aria-labelledby="sm-title">
        <h1 id="sm-title">{t("settings.sm.title")}</h1>
        <MessagesForm />
        <PresenceForm />
      </section>
    </AdminLayout>
  );
}

function MessagesForm() {
  const t = useT();
  const res = useResource(() => api.get<Messages>("/api/v1/standard-messages"), []);
  const [draft, setDraft] = useState<Messages | null>(null);
  const [problems, setProblems] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);
  const [flash, setFlash] = useFlash();
  useEffect(() => {
    if (res.value) setDraft({ ...res.value });
  }, [res.value]);

  const save = async (ev: FormEvent) => {
    ev.preventDefault();
    if (!draft) return;
    const local: string[] = [];
    for (const f of fields) {
      const label = t(("settings.sm." + f) as Key);
      if (!draft[f].trim()) local.push(t("settings.sm.err.empty", { field: label }));
      else if (buttons.has(f) && [...draft[f]].length > maxButton) local.push(t("settings.sm.err.button", { field: label, max: maxButton }));
      else if (charLength(draft[f]) > maxText) local.push(t("settings.sm.err.long", { field: label, max: maxText }));
    }
    if (local.length) {
      setProblems([t("settings.fixFirst"), ...local]);
      return;
    }
    setProblems([]);
    setSaving(true);
    try {
      res.setValue(await api.put<Messages>("/api/v1/standard-messages", draft));
      setFlash(t("common.saved"));
    } catch (err) {
      setProblems(problemsOf(t, err));
    } finally {
      setSaving(false);
    }
  };

  const field = (f: Field, multi: boolean) => (
    <div className="settings-field" key={f}>
      <label htmlFor={"sm-" + f}>{t(("settings.sm." + f) as Key)}</label>
      {multi ? (
        <textarea id={"sm-" + f} rows={3} value={draft![f]} onChange={(e) => setDraft({ ...draft!, [f]: e.target.value })} />
      ) : (
        <input id={"sm-" + f} value={draft![f]} aria-describedby="sm-button-hint" onChange={(e) => setDraft({ ...draft!, [f]: e.target.value })} />
      )}
    </div>
  );

  return (
    <>
      <Problems lines={res.error} />
      {!draft ? (
        !res.error.length && <p className="empty">{t("common.loading")}</p>
      ) : (
        <form className="settings-form" onSubmit={(e) => void save(e)} noValidate aria-labelledby="sm-title">
          <fieldset>
            <legend>{t("settings.sm.csat")}</legend>
            {field("csat_question", true)}
            <div className="settings-grid">
              {field("csat_bad", false)}
              {field("csat_normal", false)}
              {field("csat_excellent", false)}
            </div>
            <p className="hint" id="sm-button-hint">
              {t("settings.sm.buttonHint", { max: maxButton })}
            </p>
            {field("csat_thanks", true)}
          </fieldset>
          <fieldset>
            <legend>{t("settings.sm.closing")}</legend>
            {field("auto_close", true)}
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
    </>
  );
}

function PresenceForm() {
  const t = useT();
  const res = useResource(() => api.get<{ offline_blocked_by: string[] }>("/api/v1/presence-settings"), []);
  const [blocked, setBlocked] = useState<string[] | null>(null);
  const [problems, setProblems] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);
  const [flash, setFlash] = useFlash();
  useEffect(() => {
    if (res.value) setBlocked([...res.value.offline_blocked_by]);
  }, [res.value]);

  const save = async (ev: FormEvent) => {
    ev.preventDefault();
    if (!blocked) return;
    setSaving(true);
    try {
      res.setValue(await api.put<{ offline_blocked_by: string[] }>("/api/v1/presence-settings", { offline_blocked_by: blocked }));
      setProblems([]);
      setFlash(t("common.saved"));
    } catch (err) {
      setProblems(problemsOf(t, err));
    } finally {
      setSaving(false);
    }
  };

  return (
    <form className="settings-form" onSubmit={(e) => void save(e)} aria-labelledby="pr-title">
      <h2 id="pr-title">{t("settings.presence.title")}</h2>
      <Problems lines={res.error} />
      {blocked && (
        <fieldset>
          <legend>{t("settings.presence.blockedBy")}</legend>
          <p className="hint">{t("settings.presence.hint")}</p>
          {openStatuses.map((s) => (
            <label className="settings-check" key={s}>
              <input
                type="checkbox"
                checked={blocked.includes(s)}
                onChange={(e) => setBlocked(e.target.checked ? [...blocked, s] : blocked.filter((x) => x !== s))}
              />
              {t(("settings.status." + s) as Key)}
            </label>
          ))}
        </fieldset>
      )}
      <Problems lines={problems} />
      <div className="settings-actions">
        <button type="submit" className="primary" disabled={saving || !blocked}>
          {saving ? t("settings.saving") : t("common.save")}
        </button>
        <Flash text={flash} />
      </div>
    </form>
  );
}
