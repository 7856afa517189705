// The audit log: every configuration and permission change — who, when, from where, and which
// fields changed — newest first, filtered the ways GET /api/v1/audit allows, paged with "load more".
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api, query } from "../../lib/api";
import { formatTime, useI18n, type Lang } from "../../lib/i18n";
import { linkHandler } from "../../lib/router";
import type { Key } from "../../strings";
import { AdminLayout } from "../admin/AdminLayout";
import { Problems, problemsOf, useResource } from "./shared";
import "./settings.css";

export interface AuditRecord {
  id: number;
  at: string;
  actor_id: number | null;
  actor_name: string;
  actor_token_id: number | null;
  remote_addr: string;
  entity_kind: string;
  entity_id: string;
  action: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

const entities = ["line", "regulation", "channel", "group", "user", "api_token", "template", "webhook", "setting", "kb_folder", "kb_article", "linked_app", "macro"];
const knownActions = ["create", "update", "delete", "password_reset", "password_link", "password_set", "revoke", "rotate_token", "rotate_secret", "sso_provision", "sso_sync"];

interface Filters {
  entity: string;
  entity_id: string;
  actor_id: string;
  from: string;
  to: string;
}

const empty: Filters = { entity: "", entity_id: "", actor_id: "", from: "", to: "" };

/** isoOf turns a datetime-local value (the browser's zone) into RFC 3339 for the API. */
function isoOf(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return isNaN(d.getTime()) ? undefined : d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

const isoTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/** show prints a changed value compactly; times in the reader's language. */
export function show(v: unknown, lang: Lang = "en"): string {
  if (v === undefined) return "";
  if (v === null) return "∅";
  if (typeof v === "string") return isoTime.test(v) ? formatTime(lang, v, true) : v;
  return JSON.stringify(v);
}

/** screenOf is where an audited entity is edited in the console, if it has its own page. */
function screenOf(kind: string, id: string): string | null {
  if (kind === "regulation") return "/admin/regulations/" + id;
  if (kind === "webhook") return "/admin/webhooks/" + id;
  return null;
}

/** changes lists the fields an entry touched, with their values before and after. */
export function changes(r: AuditRecord): { field: string; before: unknown; after: unknown }[] {
  const keys = new Set([...Object.keys(r.before ?? {}), ...Object.keys(r.after ?? {})]);
  return [...keys].sort().map((field) => ({ field, before: r.before?.[field], after: r.after?.[field] }));
}

export function Audit() {
  const { t, lang } = useI18n();
  const users = useResource(() => api.get<{ items: { id: number; name: string; email: string }[] }>("/api/v1/users").then((r) => r.items), []);
  const [form, setForm] = useState<Filters>(empty);
  const [applied, setApplied] = useState<Filters>(empty);
  const [items, setItems] = useState<AuditRecord[] | null>(null);
  const [next, setNext] = useState<number | null>(null);
  const [problems, setProblems] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);

  const load = useCallback(
    async (f: Filters, before?: number) => {
      setBusy(true);
      try {
        const r = await api.get<{ items: AuditRecord[]; next_before: number | null }>(
          "/api/v1/audit" + query({ entity: f.entity, entity_id: f.entity_id.trim(), actor_id: f.actor_id, from: isoOf(f.from), to: isoOf(f.to), before, limit: 50 }),
        );
        setItems((cur) => (before && cur ? [...cur, ...r.items] : r.items));
        setNext(r.next_before);
        setProblems([]);
      } catch (err) {
        setProblems(problemsOf(t, err));
      } finally {
        setBusy(false);
      }
    },
    [t],
  );

  useEffect(() => {
    void load(applied);
  }, [load, applied]);

  const apply = (ev: FormEvent) => {
    ev.preventDefault();
    setItems(null);
    setApplied({ ...form });
  };

  const set = (k: keyof Filters) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const entityLabel = (k: string) => (entities.includes(k) ? t(("settings.audit.entity." + k) as Key) : k);
  const actionLabel = (a: string) => (knownActions.includes(a) ? t(("settings.audit.action." + a) as Key) : a);

  return (
    <AdminLayout>
      <section className="settings" aria-labelledby="audit-title">
        <h1 id="audit-title">{t("settings.audit.title")}</h1>
        <form className="settings-filters" onSubmit={apply} aria-label={t("settings.audit.filters")}>
          <div className="settings-filter">
            <label htmlFor="audit-entity">{t("settings.audit.entity")}</label>
            <select id="audit-entity" value={form.entity} onChange={set("entity")}>
              <option value="">{t("settings.audit.any")}</option>
              {entities.map((e) => (
                <option key={e} value={e}>
                  {entityLabel(e)}
                </option>
              ))}
            </select>
          </div>
          <div className="settings-filter">
            <label htmlFor="audit-entity-id">{t("settings.audit.entityId")}</label>
            <input id="audit-entity-id" value={form.entity_id} onChange={set("entity_id")} size={12} placeholder={t("settings.audit.entityIdPlaceholder")} />
          </div>
          <div className="settings-filter">
            <label htmlFor="audit-actor">{t("settings.audit.actor")}</label>
            <select id="audit-actor" value={form.actor_id} onChange={set("actor_id")}>
              <option value="">{t("settings.audit.anyone")}</option>
              {(users.value ?? []).map((u) => (
                <option key={u.id} value={String(u.id)}>
                  {u.name || u.email}
                </option>
              ))}
            </select>
          </div>
          <div className="settings-filter">
            <label htmlFor="audit-from">{t("settings.audit.from")}</label>
            <input id="audit-from" type="datetime-local" value={form.from} onChange={set("from")} />
          </div>
          <div className="settings-filter">
            <label htmlFor="audit-to">{t("settings.audit.to")}</label>
            <input id="audit-to" type="datetime-local" value={form.to} onChange={set("to")} />
          </div>
          <button type="submit" className="primary">
            {t("settings.audit.apply")}
          </button>
          <button
            type="button"
            onClick={() => {
              setForm(empty);
              setItems(null);
              setApplied({ ...empty });
            }}
          >
            {t("settings.audit.reset")}
          </button>
        </form>
        <Problems lines={problems} />
        {items === null ? (
          busy && <p className="empty">{t("common.loading")}</p>
        ) : items.length === 0 ? (
          <p className="empty">{t("settings.audit.empty")}</p>
        ) : (
          <table className="list settings-audit">
            <thead>
              <tr>
                <th scope="col">{t("settings.audit.when")}</th>
                <th scope="col">{t("settings.audit.who")}</th>
                <th scope="col">{t("settings.audit.what")}</th>
                <th scope="col">{t("settings.audit.change")}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((r) => (
                <tr key={r.id}>
                  <td className="nowrap">{formatTime(lang, r.at, true)}</td>
                  <td>
                    {r.actor_id === null ? <span className="muted">{t("settings.audit.system")}</span> : r.actor_name || "#" + r.actor_id}
                    {(r.actor_token_id || r.remote_addr) && (
                      <div className="muted small">
                        {r.actor_token_id ? t("settings.audit.viaToken", { id: r.actor_token_id }) + " " : ""}
                        {r.remote_addr}
                      </div>
                    )}
                  </td>
                  <td>
                    {actionLabel(r.action)} · {entityLabel(r.entity_kind)}{" "}
                    {screenOf(r.entity_kind, r.entity_id) && r.action !== "delete" ? (
                      <a className="mono" href={screenOf(r.entity_kind, r.entity_id)!} onClick={linkHandler(screenOf(r.entity_kind, r.entity_id)!)}>
                        {r.entity_id}
                      </a>
                    ) : (
                      <span className="mono">{r.entity_id}</span>
                    )}
                  </td>
                  <td>
                    <ul className="settings-diff">
                      {changes(r).map((c) => (
                        <li key={c.field}>
                          <span className="mono">{c.field}</span>:{" "}
                          {c.before !== undefined && <del title={t("settings.audit.before")}>{show(c.before, lang)}</del>}
                          {c.before !== undefined && c.after !== undefined && " → "}
                          {c.after !== undefined && <ins title={t("settings.audit.after")}>{show(c.after, lang)}</ins>}
                        </li>
                      ))}
                    </ul>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {items && next !== null && (
          <p>
            <button type="button" disabled={busy} onClick={() => void load(applied, next)}>
              {busy ? t("common.loading") : t("common.more")}
            </button>
          </p>
        )}
      </section>
    </AdminLayout>
  );
}
