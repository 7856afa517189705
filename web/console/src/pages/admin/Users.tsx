// Users: the list, adding one (role, groups, capacity; the admin sets the first password or gets
// a one-time link to hand over), and one user's page (edit, disable, new password or link).
// Group membership lives on the groups and capacity is PATCH-only, so a save may take a few calls.
import { useEffect, useState, type FormEvent } from "react";
import { api } from "../../lib/api";
import { formatTime, useI18n, useT } from "../../lib/i18n";
import { linkHandler, match, navigate, type Location } from "../../lib/router";
import type { Role } from "../../lib/types";
import { AdminLayout } from "./AdminLayout";
import { CopyField, ErrorNote, toggle, useLoad } from "./channels/form";
import type { GroupInfo, Items, PasswordLink, UserInfo } from "./channels/types";
import "./channels/admin.css";

export function Users({ loc }: { loc: Location }) {
  const m = match("/admin/users/:id", loc.path);
  return <AdminLayout>{m ? m.id === "new" ? <NewUser /> : <UserPage id={Number(m.id)} /> : <UserList />}</AdminLayout>;
}

const roles: Role[] = ["operator", "supervisor", "admin"];

function UserList() {
  const t = useT();
  const users = useLoad(() => api.get<Items<UserInfo>>("/api/v1/users"), []);
  const groups = useLoad(() => api.get<Items<GroupInfo>>("/api/v1/groups"), []);
  const groupNames = (ids: number[]) => ids.map((id) => groups.data?.items.find((g) => g.id === id)?.name ?? "#" + id).join(", ") || t("common.none");
  return (
    <section aria-labelledby="users-title">
      <div className="page-head">
        <h1 id="users-title">{t("admin.users.title")}</h1>
        <a className="button" href="/admin/users/new" onClick={linkHandler("/admin/users/new")}>{t("admin.users.new")}</a>
      </div>
      <ErrorNote error={users.error} />
      {users.data && (
        <table className="list">
          <thead>
            <tr>
              <th scope="col">{t("admin.users.name")}</th>
              <th scope="col">{t("admin.users.email")}</th>
              <th scope="col">{t("admin.users.role")}</th>
              <th scope="col">{t("admin.users.groups")}</th>
              <th scope="col">{t("admin.users.capacity")}</th>
              <th scope="col">{t("admin.users.state")}</th>
            </tr>
          </thead>
          <tbody>
            {users.data.items.map((u) => (
              <tr key={u.id} className={u.disabled ? "muted" : undefined}>
                <td><a href={"/admin/users/" + u.id} onClick={linkHandler("/admin/users/" + u.id)}>{u.name}</a></td>
                <td>{u.email}</td>
                <td>{t(("admin.role." + u.role) as "admin.role.admin")}</td>
                <td>{groupNames(u.group_ids)}</td>
                <td>{u.capacity ? u.capacity : t("admin.users.noLimit")}</td>
                <td>{u.disabled ? t("admin.users.disabled") : t(("presence." + u.presence) as "presence.online")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {!users.data && !users.error && <p>{t("common.loading")}</p>}
    </section>
  );
}

/** setMembership adds the user to the chosen groups and removes them from the others. */
async function setMembership(userID: number, groups: GroupInfo[], chosen: number[]) {
  for (const g of groups) {
    const want = chosen.includes(g.id);
    if (want !== g.member_ids.includes(userID)) await api.patch(`/api/v1/groups/${g.id}`, { member_ids: toggle(g.member_ids, userID, want) });
  }
}

function GroupChecks({ groups, chosen, onChange }: { groups: GroupInfo[]; chosen: number[]; onChange: (c: number[]) => void }) {
  const t = useT();
  return (
    <fieldset className="checks">
      <legend>{t("admin.users.groups")}</legend>
      {groups.length === 0 && <p className="muted">{t("admin.groups.empty")}</p>}
      {groups.map((g) => (
        <label key={g.id} className="check">
          <input type="checkbox" checked={chosen.includes(g.id)} onChange={(e) => onChange(toggle(chosen, g.id, e.target.checked))} />
          <span>{g.name} <small className="muted">({t(("admin.groups.kind." + g.kind) as "admin.groups.kind.operators")})</small></span>
        </label>
      ))}
    </fieldset>
  );
}

function LinkBox({ link }: { link: PasswordLink }) {
  const { t, lang } = useI18n();
  return (
    <div className="once" role="status">
      <p className="warn">{t("admin.users.linkOnce", { until: formatTime(lang, link.expires_at, true) })}</p>
      <CopyField label={t("admin.users.link")} value={location.origin + link.url} />
    </div>
  );
}

function NewUser() {
  const t = useT();
  const groups = useLoad(() => api.get<Items<GroupInfo>>("/api/v1/groups").then((r) => r.items), []);
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("operator");
  const [capacity, setCapacity] = useState(0);
  const [chosen, setChosen] = useState<number[]>([]);
  const [mode, setMode] = useState<"link" | "password">("link");
  const [password, setPassword] = useState("");
  const [created, setCreated] = useState<{ user: UserInfo; password_link?: PasswordLink } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      let answer = created;
      if (!answer) {
        answer = await api.post<{ user: UserInfo; password_link?: PasswordLink }>("/api/v1/users", {
          email: email.trim(), name: name.trim(), role, ...(mode === "password" ? { password } : {}),
        });
        setCreated(answer);
      }
      if (capacity > 0) await api.patch(`/api/v1/users/${answer.user.id}`, { capacity });
      await setMembership(answer.user.id, groups.data ?? [], chosen);
      setError(null);
      if (!answer.password_link) navigate("/admin/users/" + answer.user.id);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (created?.password_link && !error)
    return (
      <section className="form" aria-labelledby="user-created">
        <h1 id="user-created">{t("admin.users.created", { name: created.user.name })}</h1>
        <LinkBox link={created.password_link} />
        <p><a className="button" href={"/admin/users/" + created.user.id} onClick={linkHandler("/admin/users/" + created.user.id)}>{t("admin.users.openUser")}</a></p>
      </section>
    );

  return (
    <form className="form" onSubmit={(e) => void submit(e)} aria-labelledby="new-user-title">
      <p><a href="/admin/users" onClick={linkHandler("/admin/users")}>← {t("admin.users.title")}</a></p>
      <h1 id="new-user-title">{t("admin.users.new")}</h1>
      <label className="field">
        <span>{t("admin.users.name")}</span>
        <input value={name} onChange={(e) => setName(e.target.value)} required disabled={!!created} />
      </label>
      <label className="field">
        <span>{t("admin.users.email")}</span>
        <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} required disabled={!!created} />
      </label>
      <label className="field">
        <span>{t("admin.users.role")}</span>
        <select value={role} onChange={(e) => setRole(e.target.value as Role)} disabled={!!created}>
          {roles.map((r) => <option key={r} value={r}>{t(("admin.role." + r) as "admin.role.admin")}</option>)}
        </select>
      </label>
      <label className="field">
        <span>{t("admin.users.capacity")}</span>
        <input type="number" min={0} max={1000} value={capacity} onChange={(e) => setCapacity(Number(e.target.value))} aria-describedby="cap-help" />
      </label>
      <small className="help" id="cap-help">{t("admin.users.capacityHelp")}</small>
      <GroupChecks groups={groups.data ?? []} chosen={chosen} onChange={setChosen} />
      <fieldset className="checks">
        <legend>{t("admin.users.firstPassword")}</legend>
        <label className="check">
          <input type="radio" name="pwmode" checked={mode === "link"} onChange={() => setMode("link")} disabled={!!created} />
          <span>{t("admin.users.modeLink")}</span>
        </label>
        <label className="check">
          <input type="radio" name="pwmode" checked={mode === "password"} onChange={() => setMode("password")} disabled={!!created} />
          <span>{t("admin.users.modePassword")}</span>
        </label>
        {mode === "password" && (
          <label className="field">
            <span>{t("admin.users.password")}</span>
            <input type="password" autoComplete="new-password" minLength={8} value={password} onChange={(e) => setPassword(e.target.value)} required disabled={!!created} />
          </label>
        )}
      </fieldset>
      <ErrorNote error={error} />
      {created && <p className="muted" role="status">{t("admin.users.createdPartly")}</p>}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>{created ? t("admin.users.retry") : t("common.create")}</button>
      </div>
    </form>
  );
}

function UserPage({ id }: { id: number }) {
  const t = useT();
  const user = useLoad(() => api.get<{ user: UserInfo }>(`/api/v1/users/${id}`).then((r) => r.user), [id]);
  const groups = useLoad(() => api.get<Items<GroupInfo>>("/api/v1/groups").then((r) => r.items), []);
  const [draft, setDraft] = useState<{ name: string; email: string; role: Role; capacity: number } | null>(null);
  const [chosen, setChosen] = useState<number[]>([]);
  const [password, setPassword] = useState("");
  const [link, setLink] = useState<PasswordLink | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [status, setStatus] = useState("");
  const u = user.data;
  useEffect(() => {
    if (u) {
      setDraft({ name: u.name, email: u.email, role: u.role, capacity: u.capacity ?? 0 });
      setChosen(u.group_ids);
    }
  }, [u]);
  if (!u || !draft) return user.error ? <ErrorNote error={user.error} /> : <p>{t("common.loading")}</p>;

  const run = async (fn: () => Promise<unknown>, done: string) => {
    setStatus("");
    try {
      await fn();
      setError(null);
      setStatus(done);
    } catch (err) {
      setError(err);
    }
  };
  const save = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const r = await api.patch<{ user: UserInfo }>(`/api/v1/users/${id}`, { name: draft.name.trim(), email: draft.email.trim(), role: draft.role, capacity: draft.capacity });
      await setMembership(id, groups.data ?? [], chosen);
      groups.reload();
      user.setData({ ...r.user, group_ids: chosen });
    }, t("common.saved"));
  };
  const setDisabled = (disabled: boolean) =>
    void run(async () => user.setData((await api.patch<{ user: UserInfo }>(`/api/v1/users/${id}`, { disabled })).user), disabled ? t("admin.users.disabledDone") : t("admin.users.enabledDone"));
  const setPw = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await api.put(`/api/v1/users/${id}/password`, { password });
      setPassword("");
    }, t("admin.users.passwordSet"));
  };
  const newLink = () => void run(async () => setLink(await api.post<PasswordLink>(`/api/v1/users/${id}/password-link`)), t("admin.users.linkMade"));

  return (
    <section aria-labelledby="user-title">
      <p><a href="/admin/users" onClick={linkHandler("/admin/users")}>← {t("admin.users.title")}</a></p>
      <h1 id="user-title">{u.name} {u.disabled && <span className="tag muted">{t("admin.users.disabled")}</span>}</h1>
      <form className="form" onSubmit={save}>
        <label className="field">
          <span>{t("admin.users.name")}</span>
          <input value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} required />
        </label>
        <label className="field">
          <span>{t("admin.users.email")}</span>
          <input type="email" value={draft.email} onChange={(e) => setDraft({ ...draft, email: e.target.value })} required />
        </label>
        <label className="field">
          <span>{t("admin.users.role")}</span>
          <select value={draft.role} onChange={(e) => setDraft({ ...draft, role: e.target.value as Role })}>
            {roles.map((r) => <option key={r} value={r}>{t(("admin.role." + r) as "admin.role.admin")}</option>)}
          </select>
        </label>
        <label className="field">
          <span>{t("admin.users.capacity")}</span>
          <input type="number" min={0} max={1000} value={draft.capacity} onChange={(e) => setDraft({ ...draft, capacity: Number(e.target.value) })} aria-describedby="cap-help" />
        </label>
        <small className="help" id="cap-help">{t("admin.users.capacityHelp")}</small>
        <GroupChecks groups={groups.data ?? []} chosen={chosen} onChange={setChosen} />
        <div className="actions">
          <button type="submit" className="primary">{t("common.save")}</button>
          <button type="button" className={u.disabled ? undefined : "danger"} onClick={() => setDisabled(!u.disabled)}>
            {u.disabled ? t("admin.users.enable") : t("admin.users.disable")}
          </button>
        </div>
      </form>
      <ErrorNote error={error} />
      {status && <p role="status" className="ok">{status}</p>}
      <section className="form" aria-labelledby="pw-title">
        <h2 id="pw-title">{t("admin.users.passwordTitle")}</h2>
        <form onSubmit={setPw} className="inline-form">
          <label className="field">
            <span>{t("admin.users.newPassword")}</span>
            <input type="password" autoComplete="new-password" minLength={8} value={password} onChange={(e) => setPassword(e.target.value)} required />
          </label>
          <button type="submit">{t("admin.users.setPassword")}</button>
        </form>
        <p>
          <button type="button" onClick={newLink} disabled={u.disabled}>{t("admin.users.newLink")}</button>
        </p>
        {link && <LinkBox link={link} />}
      </section>
    </section>
  );
}
