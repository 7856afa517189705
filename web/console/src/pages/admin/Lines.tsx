// Lines: the list, and one line's editor (its settings, regulation, and which groups work and
// supervise it — that membership lives on the groups, so saving patches the groups that changed).
import { useEffect, useState, type FormEvent } from "react";
import { api } from "../../lib/api";
import { useT } from "../../lib/i18n";
import { linkHandler, match, navigate, type Location } from "../../lib/router";
import { useSession } from "../../lib/session";
import { AdminLayout } from "./AdminLayout";
import { ErrorNote, toggle, useLoad } from "./channels/form";
import type { GroupInfo, Items, LineInfo, Regulation } from "./channels/types";
import "./channels/admin.css";

export function Lines({ loc }: { loc: Location }) {
  const m = match("/admin/lines/:id", loc.path);
  return <AdminLayout>{m ? <LineEditor id={m.id === "new" ? null : Number(m.id)} /> : <LineList />}</AdminLayout>;
}

function LineList() {
  const t = useT();
  const me = useSession();
  const lines = useLoad(() => api.get<Items<LineInfo>>("/api/v1/lines"), []);
  const groups = useLoad(() => api.get<Items<GroupInfo>>("/api/v1/groups").catch(() => ({ items: [] as GroupInfo[] })), []);
  const admin = me.user.role === "admin";
  const groupNames = (lineID: number, kind: GroupInfo["kind"]) =>
    (groups.data?.items ?? []).filter((g) => g.kind === kind && g.line_ids.includes(lineID)).map((g) => g.name).join(", ") || t("common.none");
  return (
    <section aria-labelledby="lines-title">
      <div className="page-head">
        <h1 id="lines-title">{t("admin.lines.title")}</h1>
        {admin && <a className="button" href="/admin/lines/new" onClick={linkHandler("/admin/lines/new")}>{t("admin.lines.new")}</a>}
      </div>
      <ErrorNote error={lines.error} />
      {lines.data && lines.data.items.length === 0 && (
        <div className="callout">
          <h2>{t("admin.wizard.calloutTitle")}</h2>
          <p>{t("admin.wizard.calloutText")}</p>
          {admin && <a className="button primary" href="/admin/wizard" onClick={linkHandler("/admin/wizard")}>{t("admin.wizard.start")}</a>}
        </div>
      )}
      {lines.data && lines.data.items.length > 0 && (
        <table className="list">
          <thead>
            <tr>
              <th scope="col">{t("admin.lines.name")}</th>
              <th scope="col">{t("admin.lines.routing")}</th>
              <th scope="col">{t("admin.lines.autoOpenShort")}</th>
              <th scope="col">{t("admin.lines.operatorGroups")}</th>
              <th scope="col">{t("admin.lines.supervisorGroups")}</th>
            </tr>
          </thead>
          <tbody>
            {lines.data.items.map((l) => (
              <tr key={l.id}>
                <td><a href={"/admin/lines/" + l.id} onClick={linkHandler("/admin/lines/" + l.id)}>{l.name}</a></td>
                <td>{t(("admin.lines.routing." + (l.routing || "manual")) as "admin.lines.routing.manual")}</td>
                <td>{l.auto_open ? t("common.yes") : t("common.no")}</td>
                <td>{groupNames(l.id, "operators")}</td>
                <td>{groupNames(l.id, "supervisors")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {!lines.data && !lines.error && <p>{t("common.loading")}</p>}
    </section>
  );
}

type Draft = Omit<LineInfo, "id" | "created_at" | "updated_at">;

const blank: Draft = {
  name: "",
  regulation_id: null,
  auto_open: true,
  auto_close_minutes: 0,
  auto_close_text: "",
  default_type: "",
  paused_client_message: "resume",
  merge_replies_after_close: false,
  routing: "manual",
  away_policy: "keep",
  hide_operator_name: false,
};

function LineEditor({ id }: { id: number | null }) {
  const t = useT();
  const [draft, setDraft] = useState<Draft | null>(id === null ? blank : null);
  const [groups, setGroups] = useState<GroupInfo[]>([]);
  const [chosen, setChosen] = useState<number[]>([]);
  const [regulations, setRegulations] = useState<Regulation[]>([]);
  const [users, setUsers] = useState<{ id: number; name: string }[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (id !== null)
      api.get<LineInfo>(`/api/v1/lines/${id}`).then((l) => {
        const { id: _i, created_at: _c, updated_at: _u, ...rest } = l;
        void _i; void _c; void _u;
        setDraft({ ...blank, ...rest });
      }, setError);
    api.get<Items<GroupInfo>>("/api/v1/groups").then((r) => {
      setGroups(r.items);
      if (id !== null) setChosen(r.items.filter((g) => g.line_ids.includes(id)).map((g) => g.id));
    }, () => setGroups([]));
    api.get<Items<Regulation>>("/api/v1/regulations").then((r) => setRegulations(r.items), () => setRegulations([]));
    api.get<Items<{ id: number; name: string }>>("/api/v1/users").then((r) => setUsers(r.items ?? []), () => setUsers([]));
  }, [id]);

  if (!draft) return error ? <ErrorNote error={error} /> : <p>{t("common.loading")}</p>;
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setDraft({ ...draft, [k]: v });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setSaved(false);
    try {
      const body = { ...draft, name: draft.name.trim() };
      const line = id === null ? await api.post<LineInfo>("/api/v1/lines", body) : await api.patch<LineInfo>(`/api/v1/lines/${id}`, body);
      for (const g of groups) {
        const want = chosen.includes(g.id);
        const has = g.line_ids.includes(line.id);
        if (want !== has) await api.patch<GroupInfo>(`/api/v1/groups/${g.id}`, { line_ids: toggle(g.line_ids, line.id, want) });
      }
      setError(null);
      setSaved(true);
      if (id === null) navigate("/admin/lines/" + line.id, true);
      else setGroups(await api.get<Items<GroupInfo>>("/api/v1/groups").then((r) => r.items));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const groupChecks = (kind: GroupInfo["kind"]) => {
    const list = groups.filter((g) => g.kind === kind);
    if (list.length === 0) return <p className="muted">{t("admin.groups.noneOfKind")}</p>;
    return list.map((g) => (
      <label key={g.id} className="check">
        <input type="checkbox" checked={chosen.includes(g.id)} onChange={(e) => setChosen((c) => toggle(c, g.id, e.target.checked))} />
        <span>{g.name}</span>
      </label>
    ));
  };

  return (
    <form className="form" onSubmit={(e) => void submit(e)} aria-labelledby="line-title">
      <p><a href="/admin/lines" onClick={linkHandler("/admin/lines")}>← {t("admin.lines.title")}</a></p>
      <h1 id="line-title">{id === null ? t("admin.lines.new") : draft.name || t("admin.lines.title")}</h1>
      <label className="field">
        <span>{t("admin.lines.name")}</span>
        <input value={draft.name} onChange={(e) => set("name", e.target.value)} required />
      </label>
      <label className="check">
        <input type="checkbox" checked={draft.auto_open} onChange={(e) => set("auto_open", e.target.checked)} />
        <span>{t("admin.lines.autoOpen")}</span>
      </label>
      <label className="field">
        <span>{t("admin.lines.regulation")}</span>
        <select value={draft.regulation_id ?? ""} onChange={(e) => set("regulation_id", e.target.value ? Number(e.target.value) : null)}>
          <option value="">{t("admin.lines.noRegulation")}</option>
          {regulations.map((r) => <option key={r.id} value={r.id}>{r.name}</option>)}
        </select>
      </label>
      <label className="field">
        <span>{t("admin.lines.routing")}</span>
        <select value={draft.routing ?? "manual"} onChange={(e) => set("routing", e.target.value as Draft["routing"])}>
          <option value="manual">{t("admin.lines.routing.manual")}</option>
          <option value="round_robin">{t("admin.lines.routing.round_robin")}</option>
          <option value="least_busy">{t("admin.lines.routing.least_busy")}</option>
          <option value="responsible">{t("admin.lines.routing.responsible")}</option>
        </select>
      </label>
      {draft.routing !== "manual" && (
        <fieldset className="field">
          <legend>{t("admin.lines.rules")}</legend>
          <small className="help">{t("admin.lines.rulesHelp")}</small>
          {(draft.routing_rules ?? []).map((r, i) => {
            const rules = draft.routing_rules ?? [];
            const put = (x: Partial<typeof r>) => set("routing_rules", rules.map((y, j) => (j === i ? { ...y, ...x } : y)));
            return (
              <div key={i} className="row">
                <input aria-label={t("admin.lines.ruleKey")} placeholder={t("admin.lines.ruleKey")} value={r.key} onChange={(e) => put({ key: e.target.value })} />
                <input aria-label={t("admin.lines.ruleValue")} placeholder={t("admin.lines.ruleValue")} value={r.value} onChange={(e) => put({ value: e.target.value })} />
                <select aria-label={t("admin.lines.ruleGroup")} value={r.group_id || ""} onChange={(e) => put({ group_id: Number(e.target.value) })}>
                  <option value="">—</option>
                  {groups.map((g) => <option key={g.id} value={g.id}>{g.name}</option>)}
                </select>
                <button type="button" className="link" onClick={() => set("routing_rules", rules.filter((_, j) => j !== i))}>{t("common.delete")}</button>
              </div>
            );
          })}
          <button type="button" onClick={() => set("routing_rules", [...(draft.routing_rules ?? []), { key: "", value: "", group_id: 0 }])}>{t("admin.lines.addRule")}</button>
        </fieldset>
      )}
      {draft.routing === "responsible" && (
        <label className="field">
          <span>{t("admin.lines.responsible")}</span>
          <select value={draft.responsible_user_id ?? ""} onChange={(e) => set("responsible_user_id", e.target.value ? Number(e.target.value) : undefined)}>
            <option value="">—</option>
            {users.map((u) => <option key={u.id} value={u.id}>{u.name}</option>)}
          </select>
        </label>
      )}
      <label className="field">
        <span>{t("admin.lines.awayPolicy")}</span>
        <select value={draft.away_policy ?? "keep"} onChange={(e) => set("away_policy", e.target.value as Draft["away_policy"])}>
          <option value="keep">{t("admin.lines.away.keep")}</option>
          <option value="return">{t("admin.lines.away.return")}</option>
        </select>
      </label>
      <label className="field">
        <span>{t("admin.lines.pausedClient")}</span>
        <select value={draft.paused_client_message} onChange={(e) => set("paused_client_message", e.target.value as Draft["paused_client_message"])}>
          <option value="resume">{t("admin.lines.paused.resume")}</option>
          <option value="stay">{t("admin.lines.paused.stay")}</option>
        </select>
      </label>
      <label className="field">
        <span>{t("admin.lines.autoClose")}</span>
        <input type="number" min={0} max={525600} value={draft.auto_close_minutes} onChange={(e) => set("auto_close_minutes", Number(e.target.value))} />
      </label>
      <label className="field">
        <span>{t("admin.lines.autoCloseText")}</span>
        <textarea value={draft.auto_close_text} onChange={(e) => set("auto_close_text", e.target.value)} rows={2} />
      </label>
      <label className="field">
        <span>{t("admin.lines.greeting")}</span>
        <textarea value={draft.greeting_text ?? ""} maxLength={2000} onChange={(e) => set("greeting_text", e.target.value)} rows={2} />
      </label>
      <label className="field">
        <span>{t("admin.lines.outOfHours")}</span>
        <textarea value={draft.out_of_hours_text ?? ""} maxLength={2000} onChange={(e) => set("out_of_hours_text", e.target.value)} rows={2} />
        <small className="help">{t("admin.lines.outOfHoursHelp")}</small>
      </label>
      <label className="field">
        <span>{t("admin.lines.defaultType")}</span>
        <input value={draft.default_type} onChange={(e) => set("default_type", e.target.value)} />
      </label>
      <label className="field">
        <span>{t("admin.lines.operatorName")}</span>
        <select value={draft.hide_operator_name ? "hide" : "show"} onChange={(e) => set("hide_operator_name", e.target.value === "hide")}>
          <option value="show">{t("admin.lines.operatorName.show")}</option>
          <option value="hide">{t("admin.lines.operatorName.hide")}</option>
        </select>
      </label>
      <label className="check">
        <input type="checkbox" checked={draft.merge_replies_after_close} onChange={(e) => set("merge_replies_after_close", e.target.checked)} />
        <span>{t("admin.lines.mergeReplies")}</span>
      </label>
      <fieldset className="checks">
        <legend>{t("admin.lines.operatorGroups")}</legend>
        {groupChecks("operators")}
      </fieldset>
      <fieldset className="checks">
        <legend>{t("admin.lines.supervisorGroups")}</legend>
        {groupChecks("supervisors")}
      </fieldset>
      <ErrorNote error={error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>{id === null ? t("common.create") : t("common.save")}</button>
        {saved && <span role="status" className="ok">{t("common.saved")}</span>}
      </div>
    </form>
  );
}
