// Dialog settings (seed 003): the request types, reasons and components the wrap-up form offers.
// Three editable lists, saved together with PUT /api/v1/dialog-settings.
import { useEffect, useState, type FormEvent } from "react";
import { api } from "../../lib/api";
import { useT, type T } from "../../lib/i18n";
import type { Key } from "../../strings";
import { AdminLayout } from "../admin/AdminLayout";
import { Flash, Problems, problemsOf, useFlash, useResource, charLength } from "./shared";
import "./settings.css";

export interface DialogSettingsValue {
  types: string[];
  reasons: string[];
  components: string[];
}

const lists = ["types", "reasons", "components"] as const;
type ListName = (typeof lists)[number];

/** checkLists finds what the server would refuse: empty, too long or repeated entries, no type. */
export function checkLists(t: T, v: DialogSettingsValue): string[] {
  const out: string[] = [];
  for (const name of lists) {
    const title = t(("settings.ds." + name) as Key);
    const seen = new Set<string>();
    v[name].forEach((raw, i) => {
      const s = raw.trim();
      if (s === "") out.push(t("settings.ds.err.empty", { list: title, n: i + 1 }));
      else if (charLength(s) > 200) out.push(t("settings.ds.err.long", { list: title, n: i + 1 }));
      else if (seen.has(s)) out.push(t("settings.ds.err.twice", { list: title, value: s }));
      seen.add(s);
    });
  }
  if (v.types.filter((s) => s.trim()).length === 0) out.push(t("settings.ds.err.noType"));
  return out;
}

export function DialogSettings() {
  const t = useT();
  const res = useResource(() => api.get<DialogSettingsValue>("/api/v1/dialog-settings"), []);
  const [draft, setDraft] = useState<DialogSettingsValue | null>(null);
  const [problems, setProblems] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);
  const [flash, setFlash] = useFlash();

  useEffect(() => {
    if (res.value) setDraft({ types: [...res.value.types], reasons: [...res.value.reasons], components: [...res.value.components] });
  }, [res.value]);

  const save = async (ev: FormEvent) => {
    ev.preventDefault();
    if (!draft) return;
    const local = checkLists(t, draft);
    if (local.length > 0) {
      setProblems([t("settings.fixFirst"), ...local]);
      return;
    }
    setProblems([]);
    setSaving(true);
    try {
      const body = { types: draft.types.map((s) => s.trim()), reasons: draft.reasons.map((s) => s.trim()), components: draft.components.map((s) => s.trim()) };
      res.setValue(await api.put<DialogSettingsValue>("/api/v1/dialog-settings", body));
      setFlash(t("common.saved"));
    } catch (err) {
      setProblems(problemsOf(t, err));
    } finally {
      setSaving(false);
    }
  };

  return (
    <AdminLayout>
      <section className="settings" aria-labelledby="ds-title">
        <h1 id="ds-title">{t("settings.ds.title")}</h1>
        <p className="hint">{t("settings.ds.hint")}</p>
        <Problems lines={res.error} />
        {!draft ? (
          !res.error.length && <p className="empty">{t("common.loading")}</p>
        ) : (
          <form className="settings-form" onSubmit={(e) => void save(e)} noValidate>
            <div className="settings-columns">
              {lists.map((name) => (
                <ListEditor key={name} name={name} items={draft[name]} onChange={(items) => setDraft({ ...draft, [name]: items })} />
              ))}
            </div>
            <Problems lines={problems} />
            <div className="settings-actions">
              <button type="submit" className="primary" disabled={saving}>
                {saving ? t("settings.saving") : t("common.save")}
              </button>
              <button type="button" disabled={saving || !res.value} onClick={() => res.value && setDraft({ ...res.value })}>
                {t("settings.revert")}
              </button>
              <Flash text={flash} />
            </div>
          </form>
        )}
      </section>
    </AdminLayout>
  );
}

/** ListEditor edits one list: rename in place, move up and down, remove, add at the end. */
export function ListEditor({ name, items, onChange }: { name: ListName; items: string[]; onChange: (items: string[]) => void }) {
  const t = useT();
  const title = t(("settings.ds." + name) as Key);
  const [adding, setAdding] = useState("");
  const move = (i: number, by: number) => {
    const j = i + by;
    if (j < 0 || j >= items.length) return;
    const next = [...items];
    [next[i], next[j]] = [next[j], next[i]];
    onChange(next);
  };
  const add = () => {
    const v = adding.trim();
    if (!v) return;
    onChange([...items, v]);
    setAdding("");
  };
  const headId = "ds-" + name;
  return (
    <fieldset className="settings-list" aria-labelledby={headId}>
      <legend id={headId}>{title}</legend>
      {items.length === 0 && <p className="muted">{t("settings.ds.none")}</p>}
      <ol>
        {items.map((item, i) => (
          <li key={i}>
            <input value={item} maxLength={200} aria-label={t("settings.ds.item", { list: title, n: i + 1 })} onChange={(e) => onChange(items.map((x, j) => (j === i ? e.target.value : x)))} />
            <button type="button" className="icon" disabled={i === 0} aria-label={t("settings.ds.up", { value: item })} onClick={() => move(i, -1)}>
              ↑
            </button>
            <button type="button" className="icon" disabled={i === items.length - 1} aria-label={t("settings.ds.down", { value: item })} onClick={() => move(i, 1)}>
              ↓
            </button>
            <button type="button" className="icon danger" aria-label={t("settings.ds.remove", { value: item })} onClick={() => onChange(items.filter((_, j) => j !== i))}>
              ×
            </button>
          </li>
        ))}
      </ol>
      <div className="settings-row">
        <input
          value={adding}
          maxLength={200}
          aria-label={t("settings.ds.new", { list: title })}
          placeholder={t("settings.ds.newPlaceholder")}
          onChange={(e) => setAdding(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter") {
              e.preventDefault();
              add();
            }
          }}
        />
        <button type="button" onClick={add} disabled={!adding.trim()} aria-label={t("settings.ds.add", { list: title })}>
          {t("common.add")}
        </button>
      </div>
    </fieldset>
  );
}
