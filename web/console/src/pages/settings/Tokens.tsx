// API tokens: everyone makes and revokes their own (the token is shown once); an admin may also
// look at and revoke another user's.
import { useState, type FormEvent } from "react";
import { api, query } from "../../lib/api";
import { formatTime, useI18n, useT } from "../../lib/i18n";
import { useSession } from "../../lib/session";
import type { Role } from "../../lib/types";
import type { Key } from "../../strings";
import { AdminLayout } from "../admin/AdminLayout";
import { ConfirmButton, Flash, formatDate, Problems, problemsOf, SecretOnce, useFlash, useResource } from "./shared";
import "./settings.css";

export interface APIToken {
  id: number;
  user_id: number;
  name: string;
  role: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked: boolean;
}

const rank: Record<Role, number> = { operator: 1, supervisor: 2, admin: 3 };

export function Tokens() {
  const { t, lang } = useI18n();
  const me = useSession();
  const admin = me.user.role === "admin";
  const [owner, setOwner] = useState(String(me.user.id));
  const mine = owner === String(me.user.id);
  const users = useResource(
    () => (admin ? api.get<{ items: { id: number; name: string; email: string }[] }>("/api/v1/users").then((r) => r.items) : Promise.resolve([])),
    [admin],
  );
  const list = useResource(() => api.get<{ items: APIToken[] }>("/api/v1/tokens" + query({ user_id: mine ? undefined : owner })).then((r) => r.items), [owner, mine]);
  const [created, setCreated] = useState<string | null>(null);
  const [problems, setProblems] = useState<string[]>([]);
  const [flash, setFlash] = useFlash();

  const revoke = async (tok: APIToken) => {
    try {
      await api.del("/api/v1/tokens/" + tok.id);
      setProblems([]);
      setFlash(t("settings.tok.revoked", { name: tok.name }));
      void list.reload();
    } catch (err) {
      setProblems(problemsOf(t, err));
    }
  };

  const state = (tok: APIToken) => {
    if (tok.revoked) return <span className="muted">{t("settings.tok.stateRevoked")}</span>;
    if (tok.expires_at && new Date(tok.expires_at) < new Date()) return <span className="muted">{t("settings.tok.stateExpired")}</span>;
    return t("settings.tok.stateActive");
  };

  return (
    <AdminLayout>
      <section className="settings" aria-labelledby="tok-title">
        <h1 id="tok-title">{t("settings.tok.title")}</h1>
        <p className="hint">{t("settings.tok.hint")}</p>
        {created && <SecretOnce label={t("settings.tok.token")} value={created} onDone={() => setCreated(null)} />}
        {admin && (
          <div className="settings-toolbar">
            <label htmlFor="tok-owner">{t("settings.tok.owner")}</label>
            <select id="tok-owner" value={owner} onChange={(e) => setOwner(e.target.value)}>
                <option value={String(me.user.id)}>{t("settings.tok.me")}</option>
                {(users.value ?? [])
                  .filter((u) => u.id !== me.user.id)
                  .map((u) => (
                    <option key={u.id} value={String(u.id)}>
                      {u.name || u.email}
                    </option>
                  ))}
              </select>
          </div>
        )}
        {mine && (
          <NewToken
            myRole={me.user.role}
            onCreated={(token) => {
              setCreated(token);
              void list.reload();
            }}
          />
        )}
        <Problems lines={list.error} />
        <Problems lines={problems} />
        <Flash text={flash} />
        {list.value === null ? (
          !list.error.length && <p className="empty">{t("common.loading")}</p>
        ) : list.value.length === 0 ? (
          <p className="empty">{t("settings.tok.empty")}</p>
        ) : (
          <table className="list">
            <thead>
              <tr>
                <th scope="col">{t("settings.tok.name")}</th>
                <th scope="col">{t("settings.tok.role")}</th>
                <th scope="col">{t("settings.tok.created")}</th>
                <th scope="col">{t("settings.tok.expires")}</th>
                <th scope="col">{t("settings.tok.lastUsed")}</th>
                <th scope="col">{t("settings.tok.state")}</th>
                <th scope="col">
                  <span className="visually-hidden">{t("settings.actions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.value.map((tok) => (
                <tr key={tok.id}>
                  <td>{tok.name}</td>
                  <td>{tok.role ? t(("settings.role." + tok.role) as Key) : t("settings.tok.ownerRole")}</td>
                  <td>{formatTime(lang, tok.created_at, true)}</td>
                  <td>{tok.expires_at ? formatDate(lang, tok.expires_at) : t("settings.tok.never")}</td>
                  <td>{tok.last_used_at ? formatTime(lang, tok.last_used_at, true) : t("settings.tok.notUsed")}</td>
                  <td>{state(tok)}</td>
                  <td>
                    {!tok.revoked && <ConfirmButton label={t("settings.tok.revoke")} question={t("settings.tok.confirmRevoke", { name: tok.name })} onConfirm={() => void revoke(tok)} />}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </AdminLayout>
  );
}

function NewToken({ myRole, onCreated }: { myRole: Role; onCreated: (token: string) => void }) {
  const t = useT();
  const [name, setName] = useState("");
  const [role, setRole] = useState("");
  const [days, setDays] = useState("90");
  const [problems, setProblems] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);
  const roles = (["operator", "supervisor", "admin"] as Role[]).filter((r) => rank[r] <= rank[myRole]);

  const create = async (ev: FormEvent) => {
    ev.preventDefault();
    const local: string[] = [];
    if (!name.trim()) local.push(t("settings.tok.err.name"));
    if (!/^\d+$/.test(days.trim()) || Number(days) > 3650) local.push(t("settings.tok.err.days"));
    if (local.length) {
      setProblems([t("settings.fixFirst"), ...local]);
      return;
    }
    setSaving(true);
    try {
      const r = await api.post<APIToken & { token: string }>("/api/v1/tokens", { name: name.trim(), role, expires_in_days: Number(days) });
      setProblems([]);
      setName("");
      onCreated(r.token);
    } catch (err) {
      setProblems(problemsOf(t, err));
    } finally {
      setSaving(false);
    }
  };

  return (
    <form className="settings-form settings-inline" onSubmit={(e) => void create(e)} noValidate aria-labelledby="tok-new">
      <h2 id="tok-new">{t("settings.tok.new")}</h2>
      <div className="settings-row">
        <div className="settings-field">
          <label htmlFor="tok-name">{t("settings.tok.name")}</label>
          <input id="tok-name" value={name} maxLength={200} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="settings-field">
          <label htmlFor="tok-role">{t("settings.tok.role")}</label>
          <select id="tok-role" value={role} onChange={(e) => setRole(e.target.value)}>
            <option value="">{t("settings.tok.myRole", { role: t(("settings.role." + myRole) as Key) })}</option>
            {roles.map((r) => (
              <option key={r} value={r}>
                {t(("settings.role." + r) as Key)}
              </option>
            ))}
          </select>
        </div>
        <div className="settings-field">
          <label htmlFor="tok-days">{t("settings.tok.days")}</label>
          <input id="tok-days" type="number" min={0} max={3650} value={days} aria-describedby="tok-days-hint" onChange={(e) => setDays(e.target.value)} />
        </div>
        <button type="submit" className="primary" disabled={saving}>
          {t("settings.tok.create")}
        </button>
      </div>
      <p className="hint" id="tok-days-hint">
        {t("settings.tok.daysHint")}
      </p>
      <Problems lines={problems} />
    </form>
  );
}
