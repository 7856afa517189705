// Groups: who is in them, what they may do (permissions), and which lines they work (an
// operators group) or supervise (a supervisors group).
import { useEffect, useState, type FormEvent } from "react";
import { api } from "../../lib/api";
import { useT } from "../../lib/i18n";
import { linkHandler, match, navigate, type Location } from "../../lib/router";
import type { Permission } from "../../lib/types";
import { AdminLayout } from "./AdminLayout";
import { ErrorNote, toggle, useLoad } from "./channels/form";
import { permissions, type GroupInfo, type Items, type LineInfo, type UserInfo } from "./channels/types";
import "./channels/admin.css";

export function Groups({ loc }: { loc: Location }) {
  const m = match("/admin/groups/:id", loc.path);
  return <AdminLayout>{m ? <GroupEditor id={m.id === "new" ? null : Number(m.id)} /> : <GroupList />}</AdminLayout>;
}

function GroupList() {
  const t = useT();
  const groups = useLoad(() => api.get<Items<GroupInfo>>("/api/v1/groups"), []);
  const lines = useLoad(() => api.get<Items<LineInfo>>("/api/v1/lines"), []);
  const lineNames = (ids: number[]) => ids.map((id) => lines.data?.items.find((l) => l.id === id)?.name ?? "#" + id).join(", ") || t("common.none");
  return (
    <section aria-labelledby="groups-title">
      <div className="page-head">
        <h1 id="groups-title">{t("admin.groups.title")}</h1>
        <a className="button" href="/admin/groups/new" onClick={linkHandler("/admin/groups/new")}>{t("admin.groups.new")}</a>
      </div>
      <ErrorNote error={groups.error} />
      {groups.data && groups.data.items.length === 0 && <p className="empty">{t("admin.groups.empty")}</p>}
      {groups.data && groups.data.items.length > 0 && (
        <table className="list">
          <thead>
            <tr>
              <th scope="col">{t("admin.groups.name")}</th>
              <th scope="col">{t("admin.groups.kind")}</th>
              <th scope="col">{t("admin.groups.members")}</th>
              <th scope="col">{t("admin.groups.lines")}</th>
              <th scope="col">{t("admin.groups.permissions")}</th>
            </tr>
          </thead>
          <tbody>
            {groups.data.items.map((g) => (
              <tr key={g.id}>
                <td><a href={"/admin/groups/" + g.id} onClick={linkHandler("/admin/groups/" + g.id)}>{g.name}</a></td>
                <td>{t(("admin.groups.kind." + g.kind) as "admin.groups.kind.operators")}</td>
                <td>{g.member_ids.length}</td>
                <td>{lineNames(g.line_ids)}</td>
                <td>{g.permissions.map((p) => t(("admin.perm." + p) as "admin.perm.omni")).join(", ") || t("common.none")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {!groups.data && !groups.error && <p>{t("common.loading")}</p>}
    </section>
  );
}

interface Draft {
  name: string;
  kind: GroupInfo["kind"];
  permissions: Permission[];
  member_ids: number[];
  line_ids: number[];
}

function GroupEditor({ id }: { id: number | null }) {
  const t = useT();
  const users = useLoad(() => api.get<Items<UserInfo>>("/api/v1/users").then((r) => r.items), []);
  const lines = useLoad(() => api.get<Items<LineInfo>>("/api/v1/lines").then((r) => r.items), []);
  const [draft, setDraft] = useState<Draft | null>(id === null ? { name: "", kind: "operators", permissions: ["omni"], member_ids: [], line_ids: [] } : null);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (id !== null)
      api.get<GroupInfo>(`/api/v1/groups/${id}`).then(
        (g) => setDraft({ name: g.name, kind: g.kind, permissions: g.permissions, member_ids: g.member_ids, line_ids: g.line_ids }),
        setError,
      );
  }, [id]);
  if (!draft) return error ? <ErrorNote error={error} /> : <p>{t("common.loading")}</p>;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    try {
      const body = { ...draft, name: draft.name.trim() };
      const g = id === null ? await api.post<GroupInfo>("/api/v1/groups", body) : await api.patch<GroupInfo>(`/api/v1/groups/${id}`, body);
      setError(null);
      setSaved(true);
      if (id === null) navigate("/admin/groups/" + g.id, true);
    } catch (err) {
      setError(err);
    }
  };
  const remove = async () => {
    if (id === null || !confirm(t("admin.groups.deleteConfirm", { name: draft.name }))) return;
    try {
      await api.del(`/api/v1/groups/${id}`);
      navigate("/admin/groups");
    } catch (err) {
      setError(err);
    }
  };

  return (
    <form className="form" onSubmit={(e) => void submit(e)} aria-labelledby="group-title">
      <p><a href="/admin/groups" onClick={linkHandler("/admin/groups")}>← {t("admin.groups.title")}</a></p>
      <h1 id="group-title">{id === null ? t("admin.groups.new") : draft.name}</h1>
      <label className="field">
        <span>{t("admin.groups.name")}</span>
        <input value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} required />
      </label>
      <label className="field">
        <span>{t("admin.groups.kind")}</span>
        <select value={draft.kind} onChange={(e) => setDraft({ ...draft, kind: e.target.value as GroupInfo["kind"] })} aria-describedby="kind-help">
          <option value="operators">{t("admin.groups.kind.operators")}</option>
          <option value="supervisors">{t("admin.groups.kind.supervisors")}</option>
        </select>
      </label>
      <small className="help" id="kind-help">{t("admin.groups.kindHelp")}</small>
      <fieldset className="checks">
        <legend>{t("admin.groups.permissions")}</legend>
        {permissions.map((p) => (
          <label key={p} className="check">
            <input type="checkbox" checked={draft.permissions.includes(p)} onChange={(e) => setDraft({ ...draft, permissions: toggle(draft.permissions, p, e.target.checked) })} />
            <span>{t(("admin.perm." + p) as "admin.perm.omni")}</span>
          </label>
        ))}
      </fieldset>
      <fieldset className="checks">
        <legend>{draft.kind === "operators" ? t("admin.groups.linesOperators") : t("admin.groups.linesSupervisors")}</legend>
        {(lines.data ?? []).length === 0 && <p className="muted">{t("admin.lines.empty")}</p>}
        {(lines.data ?? []).map((l) => (
          <label key={l.id} className="check">
            <input type="checkbox" checked={draft.line_ids.includes(l.id)} onChange={(e) => setDraft({ ...draft, line_ids: toggle(draft.line_ids, l.id, e.target.checked) })} />
            <span>{l.name}</span>
          </label>
        ))}
      </fieldset>
      <fieldset className="checks members">
        <legend>{t("admin.groups.members")}</legend>
        {(users.data ?? []).map((u) => (
          <label key={u.id} className="check">
            <input type="checkbox" checked={draft.member_ids.includes(u.id)} onChange={(e) => setDraft({ ...draft, member_ids: toggle(draft.member_ids, u.id, e.target.checked) })} />
            <span>{u.name} <small className="muted">{u.email}</small></span>
          </label>
        ))}
      </fieldset>
      <ErrorNote error={error} />
      <div className="actions">
        <button type="submit" className="primary">{id === null ? t("common.create") : t("common.save")}</button>
        {id !== null && <button type="button" className="danger" onClick={() => void remove()}>{t("common.delete")}</button>}
        {saved && <span role="status" className="ok">{t("common.saved")}</span>}
      </div>
    </form>
  );
}
