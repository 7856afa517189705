// Macros (issue 12, X15): named steps an operator applies to a conversation with one click.
import { useState, type FormEvent } from "react";
import { api } from "../../lib/api";
import { useT } from "../../lib/i18n";
import { AdminLayout } from "../admin/AdminLayout";
import { ConfirmButton, Flash, Problems, problemsOf, useFlash, useResource } from "./shared";
import "./settings.css";

interface Step {
  type: "take" | "pause" | "tags" | "priority" | "reply" | "note" | "close";
  text?: string;
  value?: string;
  add?: string[];
  remove?: string[];
  send_csat?: boolean;
}
interface Macro {
  id: number;
  name: string;
  actions: Step[];
}
const types: Step["type"][] = ["take", "tags", "priority", "reply", "note", "pause", "close"];

export function Macros() {
  const t = useT();
  const [editing, setEditing] = useState<Macro | "new" | null>(null);
  const [problems, setProblems] = useState<string[]>([]);
  const [flash, setFlash] = useFlash();
  const list = useResource(() => api.get<{ items: Macro[] }>("/api/v1/macros").then((r) => r.items), []);
  const describe = (s: Step) => t(("settings.macros.type." + s.type) as "settings.macros.type.take") +
    (s.text ? `: ${s.text}` : s.value ? `: ${s.value}` : s.add?.length || s.remove?.length ? `: ${(s.add ?? []).map((x) => "+" + x).concat((s.remove ?? []).map((x) => "−" + x)).join(" ")}` : "");
  return (
    <AdminLayout>
      <section className="settings" aria-labelledby="macros-title">
        <h1 id="macros-title">{t("settings.macros.title")}</h1>
        <Problems lines={list.error} />
        <Problems lines={problems} />
        {editing ? (
          <MacroEditor key={editing === "new" ? "new" : editing.id} macro={editing === "new" ? null : editing} onCancel={() => setEditing(null)}
            onSaved={() => {
              setEditing(null);
              setFlash(t("common.saved"));
              void list.reload();
            }} />
        ) : (
          <>
            <div className="settings-toolbar">
              <span className="spacer" />
              <button type="button" className="primary" onClick={() => setEditing("new")}>{t("settings.macros.new")}</button>
              <Flash text={flash} />
            </div>
            {list.value === null ? <p className="empty">{t("common.loading")}</p> : list.value.length === 0 ? <p className="empty">{t("settings.macros.empty")}</p> : (
              <table className="list">
                <thead>
                  <tr>
                    <th scope="col">{t("settings.macros.name")}</th>
                    <th scope="col">{t("settings.macros.steps")}</th>
                    <th scope="col"><span className="visually-hidden">{t("settings.actions")}</span></th>
                  </tr>
                </thead>
                <tbody>
                  {list.value.map((m) => (
                    <tr key={m.id}>
                      <td>{m.name}</td>
                      <td>{m.actions.map(describe).join(" → ")}</td>
                      <td className="nowrap">
                        <button type="button" onClick={() => setEditing(m)}>{t("common.edit")}</button>{" "}
                        <ConfirmButton label={t("common.delete")} question={t("settings.macros.confirmDelete", { name: m.name })}
                          onConfirm={() => void api.del("/api/v1/macros/" + m.id).then(() => list.reload(), (err) => setProblems(problemsOf(t, err)))} />
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

function MacroEditor({ macro, onSaved, onCancel }: { macro: Macro | null; onSaved: () => void; onCancel: () => void }) {
  const t = useT();
  const [name, setName] = useState(macro?.name ?? "");
  const [steps, setSteps] = useState<Step[]>(macro?.actions ?? [{ type: "take" }]);
  const [problems, setProblems] = useState<string[]>([]);
  const set = (i: number, s: Step) => setSteps(steps.map((x, j) => (j === i ? s : x)));
  const save = async (ev: FormEvent) => {
    ev.preventDefault();
    try {
      const body = { name, actions: steps };
      if (macro) await api.patch("/api/v1/macros/" + macro.id, body);
      else await api.post("/api/v1/macros", body);
      onSaved();
    } catch (err) {
      setProblems(problemsOf(t, err));
    }
  };
  const heading = macro ? macro.name : t("settings.macros.new");
  return (
    <form className="settings-form" onSubmit={(e) => void save(e)} noValidate aria-label={heading}>
      <h2>{heading}</h2>
      <Problems lines={problems} />
      <div className="settings-field">
        <label htmlFor="macro-name">{t("settings.macros.name")}</label>
        <input id="macro-name" value={name} maxLength={100} onChange={(e) => setName(e.target.value)} />
      </div>
      <ol className="macro-steps">
        {steps.map((s, i) => (
          <li key={i}>
            <label><span>{t("settings.macros.step", { n: i + 1 })}</span>
              <select value={s.type} onChange={(e) => set(i, { type: e.target.value as Step["type"] })}>
                {types.map((x) => <option key={x} value={x}>{t(("settings.macros.type." + x) as "settings.macros.type.take")}</option>)}
              </select></label>
            {(s.type === "reply" || s.type === "note" || s.type === "close") && (
              <label><span>{t(s.type === "close" ? "settings.macros.solution" : "settings.macros.text")}</span>
                <textarea rows={2} value={s.text ?? ""} onChange={(e) => set(i, { ...s, text: e.target.value })} /></label>
            )}
            {s.type === "priority" && (
              <label><span>{t("settings.macros.priority")}</span>
                <select value={s.value ?? "normal"} onChange={(e) => set(i, { ...s, value: e.target.value })}>
                  {["low", "normal", "high", "urgent"].map((p) => <option key={p} value={p}>{t(("conv.priority." + p) as "conv.priority.low")}</option>)}
                </select></label>
            )}
            {s.type === "tags" && (
              <>
                <label><span>{t("settings.macros.addTags")}</span>
                  <input value={(s.add ?? []).join(", ")} onChange={(e) => set(i, { ...s, add: e.target.value.split(",").map((x) => x.trim()).filter(Boolean) })} /></label>
                <label><span>{t("settings.macros.removeTags")}</span>
                  <input value={(s.remove ?? []).join(", ")} onChange={(e) => set(i, { ...s, remove: e.target.value.split(",").map((x) => x.trim()).filter(Boolean) })} /></label>
              </>
            )}
            <button type="button" className="link" onClick={() => setSteps(steps.filter((_, j) => j !== i))}>{t("settings.macros.removeStep")}</button>
          </li>
        ))}
      </ol>
      <button type="button" onClick={() => setSteps([...steps, { type: "note", text: "" }])} disabled={steps.length >= 10}>{t("settings.macros.addStep")}</button>
      <div className="settings-actions">
        <button type="submit" className="primary">{t("settings.macros.save")}</button>
        <button type="button" onClick={onCancel}>{t("common.cancel")}</button>
      </div>
    </form>
  );
}
