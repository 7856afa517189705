// Linked apps (issue 12, F105, F106, F111): the external apps that keep client data, and the
// lines whose conversations make items there with "+Связать". The signing secret shows once.
import { useState, type FormEvent } from "react";
import { api } from "../../lib/api";
import { useT } from "../../lib/i18n";
import { AdminLayout } from "../admin/AdminLayout";
import { ConfirmButton, Flash, Problems, problemsOf, SecretOnce, useFlash, useResource } from "./shared";
import "./settings.css";

interface App {
  id: number;
  name: string;
  create_url: string;
  item_url_template: string;
  kinds: string[];
  line_ids: number[];
}

export function LinkedApps() {
  const t = useT();
  const [editing, setEditing] = useState<App | "new" | null>(null);
  const [secret, setSecret] = useState("");
  const [problems, setProblems] = useState<string[]>([]);
  const [flash, setFlash] = useFlash();
  const apps = useResource(() => api.get<{ items: App[] }>("/api/v1/linked-apps").then((r) => r.items), []);
  const lines = useResource(() => api.get<{ items: { id: number; name: string }[] }>("/api/v1/lines").then((r) => r.items), []);
  const lineName = (id: number) => lines.value?.find((l) => l.id === id)?.name ?? "#" + id;

  return (
    <AdminLayout>
      <section className="settings" aria-labelledby="apps-title">
        <h1 id="apps-title">{t("settings.apps.title")}</h1>
        <p className="muted">{t("settings.apps.intro")}</p>
        <Problems lines={apps.error} />
        <Problems lines={problems} />
        {secret && <SecretOnce label={t("settings.apps.secret")} value={secret} onDone={() => setSecret("")} />}
        {editing ? (
          <AppEditor key={editing === "new" ? "new" : editing.id} app={editing === "new" ? null : editing} lines={lines.value ?? []}
            onCancel={() => setEditing(null)}
            onSaved={(s) => {
              setEditing(null);
              if (s) setSecret(s);
              setFlash(t("common.saved"));
              void apps.reload();
            }} />
        ) : (
          <>
            <div className="settings-toolbar">
              <span className="spacer" />
              <button type="button" className="primary" onClick={() => setEditing("new")}>{t("settings.apps.new")}</button>
              <Flash text={flash} />
            </div>
            {apps.value === null ? (
              <p className="empty">{t("common.loading")}</p>
            ) : apps.value.length === 0 ? (
              <p className="empty">{t("settings.apps.empty")}</p>
            ) : (
              <table className="list">
                <thead>
                  <tr>
                    <th scope="col">{t("settings.apps.name")}</th>
                    <th scope="col">{t("settings.apps.kinds")}</th>
                    <th scope="col">{t("settings.apps.lines")}</th>
                    <th scope="col"><span className="visually-hidden">{t("settings.actions")}</span></th>
                  </tr>
                </thead>
                <tbody>
                  {apps.value.map((a) => (
                    <tr key={a.id}>
                      <td>{a.name}<div className="muted mono">{a.create_url}</div></td>
                      <td>{a.kinds.join(", ")}</td>
                      <td>{a.line_ids.map(lineName).join(", ") || "—"}</td>
                      <td className="nowrap">
                        <button type="button" onClick={() => setEditing(a)}>{t("common.edit")}</button>{" "}
                        <ConfirmButton label={t("common.delete")} question={t("settings.apps.confirmDelete", { name: a.name })}
                          onConfirm={() => void api.del("/api/v1/linked-apps/" + a.id).then(() => apps.reload(), (err) => setProblems(problemsOf(t, err)))} />
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

function AppEditor({ app, lines, onSaved, onCancel }: { app: App | null; lines: { id: number; name: string }[]; onSaved: (secret: string) => void; onCancel: () => void }) {
  const t = useT();
  const [name, setName] = useState(app?.name ?? "");
  const [createURL, setCreateURL] = useState(app?.create_url ?? "");
  const [itemURL, setItemURL] = useState(app?.item_url_template ?? "");
  const [kinds, setKinds] = useState((app?.kinds ?? []).join(", "));
  const [lineIDs, setLineIDs] = useState<number[]>(app?.line_ids ?? []);
  const [problems, setProblems] = useState<string[]>([]);

  const save = async (ev: FormEvent) => {
    ev.preventDefault();
    const body = { name, create_url: createURL, item_url_template: itemURL, kinds: kinds.split(",").map((k) => k.trim()).filter(Boolean), line_ids: lineIDs };
    try {
      if (app) {
        await api.patch("/api/v1/linked-apps/" + app.id, body);
        onSaved("");
      } else {
        const r = await api.post<{ secret: string }>("/api/v1/linked-apps", body);
        onSaved(r.secret);
      }
    } catch (err) {
      setProblems(problemsOf(t, err));
    }
  };
  const heading = app ? app.name : t("settings.apps.new");
  return (
    <form className="settings-form" onSubmit={(e) => void save(e)} noValidate aria-label={heading}>
      <h2>{heading}</h2>
      <Problems lines={problems} />
      <div className="settings-field">
        <label htmlFor="app-name">{t("settings.apps.name")}</label>
        <input id="app-name" value={name} maxLength={100} onChange={(e) => setName(e.target.value)} />
      </div>
      <div className="settings-field">
        <label htmlFor="app-create">{t("settings.apps.createURL")}</label>
        <input id="app-create" value={createURL} placeholder="https://crm.example.com/linedesk/items" onChange={(e) => setCreateURL(e.target.value)} />
      </div>
      <div className="settings-field">
        <label htmlFor="app-item">{t("settings.apps.itemURL")}</label>
        <input id="app-item" value={itemURL} placeholder="https://crm.example.com/items/{id}" onChange={(e) => setItemURL(e.target.value)} />
      </div>
      <div className="settings-field">
        <label htmlFor="app-kinds">{t("settings.apps.kinds")}</label>
        <input id="app-kinds" value={kinds} placeholder={t("settings.apps.kindsPlaceholder")} onChange={(e) => setKinds(e.target.value)} />
      </div>
      <fieldset className="settings-field">
        <legend>{t("settings.apps.lines")}</legend>
        {lines.map((l) => (
          <label key={l.id} className="inline">
            <input type="checkbox" checked={lineIDs.includes(l.id)}
              onChange={(e) => setLineIDs(e.target.checked ? [...lineIDs, l.id] : lineIDs.filter((x) => x !== l.id))} /> {l.name}
          </label>
        ))}
      </fieldset>
      <div className="settings-actions">
        <button type="submit" className="primary">{t("settings.apps.save")}</button>
        <button type="button" onClick={onCancel}>{t("common.cancel")}</button>
      </div>
    </form>
  );
}
