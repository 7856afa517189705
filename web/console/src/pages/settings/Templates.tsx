// Templates (seed 002): canned replies an operator inserts with /tag, each limited to some
// channels or open to all.
import { useMemo, useState, type FormEvent } from "react";
import { api, query } from "../../lib/api";
import { formatTime, useI18n, useT } from "../../lib/i18n";
import { AdminLayout } from "../admin/AdminLayout";
import { ConfirmButton, Flash, Problems, problemsOf, useFlash, useResource } from "./shared";
import "./settings.css";

export interface Template {
  id: number;
  name: string;
  body: string;
  tags: string[];
  channel_ids: number[];
  updated_at: string;
}

interface Channel {
  id: number;
  kind: string;
  name: string;
  line_id: number;
  enabled: boolean;
}

/** tagsOf reads "/hello, thanks refund" as ["hello", "thanks", "refund"]. */
export function tagsOf(s: string): string[] {
  const out: string[] = [];
  for (const raw of s.split(/[\s,]+/)) {
    const tag = raw.replace(/^\/+/, "").toLowerCase();
    if (tag && !out.includes(tag)) out.push(tag);
  }
  return out;
}

export function Templates() {
  const { t, lang } = useI18n();
  const [channelFilter, setChannelFilter] = useState("");
  const [search, setSearch] = useState("");
  const [editing, setEditing] = useState<Template | "new" | null>(null);
  const [problems, setProblems] = useState<string[]>([]);
  const [flash, setFlash] = useFlash();
  const list = useResource(
    () => api.get<{ items: Template[] }>("/api/v1/templates" + query({ channel: channelFilter })).then((r) => r.items),
    [channelFilter],
  );
  const channels = useResource(() => api.get<{ items: Channel[] }>("/api/v1/channels").then((r) => r.items), []);
  const channelName = (id: number) => {
    const c = channels.value?.find((x) => x.id === id);
    return c ? `${c.name} (${c.kind})` : "#" + id;
  };

  const shown = useMemo(() => {
    const q = search.trim().toLowerCase().replace(/^\//, "");
    if (!list.value || !q) return list.value;
    return list.value.filter((x) => x.name.toLowerCase().includes(q) || x.body.toLowerCase().includes(q) || x.tags.some((tag) => tag.startsWith(q)));
  }, [list.value, search]);

  const remove = async (tpl: Template) => {
    try {
      await api.del("/api/v1/templates/" + tpl.id);
      setProblems([]);
      setFlash(t("settings.tpl.deleted", { name: tpl.name }));
      if (editing !== "new" && editing?.id === tpl.id) setEditing(null);
      void list.reload();
    } catch (err) {
      setProblems(problemsOf(t, err));
    }
  };

  return (
    <AdminLayout>
      <section className="settings" aria-labelledby="tpl-title">
        <h1 id="tpl-title">{t("settings.tpl.title")}</h1>
        <Problems lines={list.error} />
        <Problems lines={problems} />
        {editing ? (
          <TemplateEditor
            key={editing === "new" ? "new" : editing.id}
            template={editing === "new" ? null : editing}
            channels={channels.value ?? []}
            onCancel={() => setEditing(null)}
            onSaved={() => {
              setEditing(null);
              setFlash(t("common.saved"));
              void list.reload();
            }}
          />
        ) : (
          <>
            <div className="settings-toolbar" role="search">
              <input type="search" value={search} placeholder={t("settings.tpl.searchPlaceholder")} aria-label={t("common.search")} onChange={(e) => setSearch(e.target.value)} />
              <label htmlFor="tpl-channel-filter">{t("settings.tpl.channelFilter")}</label>
              <select id="tpl-channel-filter" value={channelFilter} onChange={(e) => setChannelFilter(e.target.value)}>
                  <option value="">{t("settings.tpl.anyChannel")}</option>
                  {(channels.value ?? []).map((c) => (
                    <option key={c.id} value={String(c.id)}>
                      {c.name} ({c.kind})
                    </option>
                  ))}
                </select>
              <span className="spacer" />
              <button type="button" className="primary" onClick={() => setEditing("new")}>
                {t("settings.tpl.new")}
              </button>
              <Flash text={flash} />
            </div>
            {shown === null ? (
              <p className="empty">{t("common.loading")}</p>
            ) : shown.length === 0 ? (
              <p className="empty">{search || channelFilter ? t("settings.tpl.noMatch") : t("settings.tpl.empty")}</p>
            ) : (
              <table className="list">
                <thead>
                  <tr>
                    <th scope="col">{t("settings.tpl.name")}</th>
                    <th scope="col">{t("settings.tpl.tags")}</th>
                    <th scope="col">{t("settings.tpl.text")}</th>
                    <th scope="col">{t("settings.tpl.channels")}</th>
                    <th scope="col">{t("settings.updated")}</th>
                    <th scope="col">
                      <span className="visually-hidden">{t("settings.actions")}</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((tpl) => (
                    <tr key={tpl.id}>
                      <td>{tpl.name}</td>
                      <td className="mono">{tpl.tags.map((x) => "/" + x).join(" ")}</td>
                      <td className="clip" title={tpl.body}>
                        {tpl.body}
                      </td>
                      <td>{tpl.channel_ids.length === 0 ? t("settings.tpl.allChannels") : tpl.channel_ids.map(channelName).join(", ")}</td>
                      <td>{formatTime(lang, tpl.updated_at, true)}</td>
                      <td className="nowrap">
                        <button type="button" onClick={() => setEditing(tpl)} aria-label={t("settings.tpl.editNamed", { name: tpl.name })}>
                          {t("common.edit")}
                        </button>{" "}
                        <ConfirmButton label={t("common.delete")} question={t("settings.tpl.confirmDelete", { name: tpl.name })} onConfirm={() => void remove(tpl)} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </>
        )}
      </section>
    </AdminLayout>
  );
}

function TemplateEditor({ template, channels, onSaved, onCancel }: { template: Template | null; channels: Channel[]; onSaved: () => void; onCancel: () => void }) {
  const t = useT();
  const [name, setName] = useState(template?.name ?? "");
  const [body, setBody] = useState(template?.body ?? "");
  const [tags, setTags] = useState((template?.tags ?? []).map((x) => "/" + x).join(" "));
  const [ids, setIds] = useState<number[]>(template?.channel_ids ?? []);
  const [problems, setProblems] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);

  const save = async (ev: FormEvent) => {
    ev.preventDefault();
    const local: string[] = [];
    if (!name.trim()) local.push(t("settings.tpl.err.name"));
    if (!body.trim()) local.push(t("settings.tpl.err.body"));
    const tagList = tagsOf(tags);
    if (tagList.length > 20) local.push(t("settings.tpl.err.tags"));
    for (const tag of tagList) if ([...tag].length > 50) local.push(t("settings.tpl.err.tagLong", { tag }));
    if (local.length) {
      setProblems([t("settings.fixFirst"), ...local]);
      return;
    }
    setSaving(true);
    try {
      const payload = { name: name.trim(), body, tags: tagList, channel_ids: ids };
      if (template) await api.patch("/api/v1/templates/" + template.id, payload);
      else await api.post("/api/v1/templates", payload);
      onSaved();
    } catch (err) {
      setProblems(problemsOf(t, err));
    } finally {
      setSaving(false);
    }
  };

  const title = template ? t("settings.tpl.editNamed", { name: template.name }) : t("settings.tpl.new");
  return (
    <form className="settings-form" onSubmit={(e) => void save(e)} noValidate aria-label={title}>
      <h2>{title}</h2>
      <div className="settings-field">
        <label htmlFor="tpl-name">{t("settings.tpl.name")}</label>
        <input id="tpl-name" value={name} maxLength={200} onChange={(e) => setName(e.target.value)} />
      </div>
      <div className="settings-field">
        <label htmlFor="tpl-tags">{t("settings.tpl.tags")}</label>
        <input id="tpl-tags" value={tags} placeholder="/hello /refund" aria-describedby="tpl-tags-hint" onChange={(e) => setTags(e.target.value)} />
        <span className="hint" id="tpl-tags-hint">
          {t("settings.tpl.tagsHint")}
        </span>
      </div>
      <div className="settings-field">
        <label htmlFor="tpl-body">{t("settings.tpl.text")}</label>
        <textarea id="tpl-body" rows={6} value={body} maxLength={20000} onChange={(e) => setBody(e.target.value)} />
      </div>
      <fieldset>
        <legend>{t("settings.tpl.channels")}</legend>
        <p className="hint">{ids.length === 0 ? t("settings.tpl.allChannelsHint") : t("settings.tpl.someChannelsHint", { n: ids.length })}</p>
        {channels.length === 0 && <p className="muted">{t("settings.tpl.noChannels")}</p>}
        <div className="settings-checks">
          {channels.map((c) => (
            <label className="settings-check" key={c.id}>
              <input type="checkbox" checked={ids.includes(c.id)} onChange={(e) => setIds(e.target.checked ? [...ids, c.id].sort((a, b) => a - b) : ids.filter((x) => x !== c.id))} />
              {c.name} <span className="muted">({c.kind})</span>
            </label>
          ))}
        </div>
      </fieldset>
      <Problems lines={problems} />
      <div className="settings-actions">
        <button type="submit" className="primary" disabled={saving}>
          {saving ? t("settings.saving") : t("common.save")}
        </button>
        <button type="button" onClick={onCancel}>
          {t("common.cancel")}
        </button>
      </div>
    </form>
  );
}
