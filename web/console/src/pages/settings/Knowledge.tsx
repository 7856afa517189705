// The knowledge base (issue 12, F041): folders of Markdown articles, drafts until published,
// public ones readable by clients. Operators read the published articles in the conversation
// view's knowledge panel; this screen is for those who edit the module's shared settings.
import { useState, type FormEvent } from "react";
import { api, query } from "../../lib/api";
import { formatTime, useI18n, useT } from "../../lib/i18n";
import { AdminLayout } from "../admin/AdminLayout";
import { ConfirmButton, Flash, Problems, problemsOf, useFlash, useResource } from "./shared";
import "./settings.css";

interface Folder {
  id: number;
  name: string;
  articles: number;
}

export interface KBArticle {
  id: number;
  folder_id: number | null;
  title: string;
  body: string;
  status: "draft" | "published";
  public: boolean;
  updated_at: string;
  html?: string;
  public_url?: string;
}

export function Knowledge() {
  const { t, lang } = useI18n();
  const [folder, setFolder] = useState("");
  const [search, setSearch] = useState("");
  const [words, setWords] = useState("");
  const [editing, setEditing] = useState<KBArticle | "new" | null>(null);
  const [problems, setProblems] = useState<string[]>([]);
  const [flash, setFlash] = useFlash();
  const folders = useResource(() => api.get<{ items: Folder[] }>("/api/v1/kb/folders").then((r) => r.items), []);
  const list = useResource(
    () => api.get<{ items: KBArticle[] }>("/api/v1/kb/articles" + query({ status: "all", folder, q: words, limit: 200 })).then((r) => r.items),
    [folder, words],
  );
  const folderName = (id: number | null) => folders.value?.find((f) => f.id === id)?.name ?? "—";

  const act = async (fn: () => Promise<unknown>, done: string) => {
    try {
      await fn();
      setProblems([]);
      setFlash(done);
      void folders.reload();
      void list.reload();
    } catch (err) {
      setProblems(problemsOf(t, err));
    }
  };
  const newFolder = () => {
    const name = window.prompt(t("settings.kb.folderName"));
    if (name?.trim()) void act(() => api.post("/api/v1/kb/folders", { name: name.trim() }), t("common.saved"));
  };
  const renameFolder = (f: Folder) => {
    const name = window.prompt(t("settings.kb.folderName"), f.name);
    if (name?.trim() && name.trim() !== f.name) void act(() => api.patch("/api/v1/kb/folders/" + f.id, { name: name.trim() }), t("common.saved"));
  };

  return (
    <AdminLayout>
      <section className="settings" aria-labelledby="kb-title">
        <h1 id="kb-title">{t("settings.kb.title")}</h1>
        <Problems lines={list.error} />
        <Problems lines={problems} />
        {editing ? (
          <ArticleEditor
            key={editing === "new" ? "new" : editing.id}
            article={editing === "new" ? null : editing}
            folders={folders.value ?? []}
            defaultFolder={folder ? Number(folder) : null}
            onCancel={() => setEditing(null)}
            onSaved={(a) => {
              setEditing(a);
              setFlash(t("common.saved"));
              void folders.reload();
              void list.reload();
            }}
          />
        ) : (
          <>
            <div className="settings-toolbar">
              <label htmlFor="kb-folder">{t("settings.kb.folder")}</label>
              <select id="kb-folder" value={folder} onChange={(e) => setFolder(e.target.value)}>
                <option value="">{t("settings.kb.allFolders")}</option>
                {(folders.value ?? []).map((f) => (
                  <option key={f.id} value={String(f.id)}>{f.name} ({f.articles})</option>
                ))}
              </select>
              <button type="button" onClick={newFolder}>{t("settings.kb.newFolder")}</button>
              {folder && (() => {
                const f = folders.value?.find((x) => String(x.id) === folder);
                return f ? (
                  <>
                    <button type="button" onClick={() => renameFolder(f)}>{t("settings.kb.renameFolder")}</button>
                    <ConfirmButton label={t("settings.kb.deleteFolder")} question={t("settings.kb.confirmDeleteFolder", { name: f.name })}
                      onConfirm={() => void act(async () => { await api.del("/api/v1/kb/folders/" + f.id); setFolder(""); }, t("common.saved"))} />
                  </>
                ) : null;
              })()}
              <form role="search" onSubmit={(e) => { e.preventDefault(); setWords(search.trim()); }}>
                <input type="search" value={search} aria-label={t("settings.kb.search")} placeholder={t("settings.kb.search")} onChange={(e) => setSearch(e.target.value)} />
              </form>
              <span className="spacer" />
              <button type="button" className="primary" onClick={() => setEditing("new")}>{t("settings.kb.new")}</button>
              <Flash text={flash} />
            </div>
            {list.value === null ? (
              <p className="empty">{t("common.loading")}</p>
            ) : list.value.length === 0 ? (
              <p className="empty">{words || folder ? t("settings.kb.noMatch") : t("settings.kb.empty")}</p>
            ) : (
              <table className="list">
                <thead>
                  <tr>
                    <th scope="col">{t("settings.kb.articleTitle")}</th>
                    <th scope="col">{t("settings.kb.folder")}</th>
                    <th scope="col">{t("settings.kb.status")}</th>
                    <th scope="col">{t("settings.updated")}</th>
                    <th scope="col"><span className="visually-hidden">{t("settings.actions")}</span></th>
                  </tr>
                </thead>
                <tbody>
                  {list.value.map((a) => (
                    <tr key={a.id}>
                      <td>{a.title}</td>
                      <td>{folderName(a.folder_id)}</td>
                      <td>{t(a.status === "published" ? "settings.kb.published" : "settings.kb.draft")}{a.public && " · " + t("settings.kb.public")}</td>
                      <td>{formatTime(lang, a.updated_at, true)}</td>
                      <td className="nowrap">
                        <button type="button" aria-label={t("settings.kb.editNamed", { name: a.title })}
                          onClick={() => void api.get<KBArticle>("/api/v1/kb/articles/" + a.id).then(setEditing, (err) => setProblems(problemsOf(t, err)))}>
                          {t("common.edit")}
                        </button>{" "}
                        <ConfirmButton label={t("common.delete")} question={t("settings.kb.confirmDelete", { name: a.title })}
                          onConfirm={() => void act(() => api.del("/api/v1/kb/articles/" + a.id), t("settings.kb.deleted", { name: a.title }))} />
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

function ArticleEditor({ article, folders, defaultFolder, onSaved, onCancel }: {
  article: KBArticle | null; folders: Folder[]; defaultFolder: number | null; onSaved: (a: KBArticle) => void; onCancel: () => void;
}) {
  const t = useT();
  const [title, setTitle] = useState(article?.title ?? "");
  const [folder, setFolder] = useState(String(article ? article.folder_id ?? "" : defaultFolder ?? ""));
  const [status, setStatus] = useState(article?.status ?? "draft");
  const [isPublic, setPublic] = useState(article?.public ?? false);
  const [body, setBody] = useState(article?.body ?? "");
  const [preview, setPreview] = useState(article?.html ?? "");
  const [saved, setSaved] = useState(article);
  const [problems, setProblems] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);

  const save = async (ev: FormEvent) => {
    ev.preventDefault();
    if (!title.trim()) {
      setProblems([t("settings.fixFirst"), t("settings.kb.err.title")]);
      return;
    }
    setSaving(true);
    try {
      const payload = { title: title.trim(), body, status, public: isPublic, ...(folder ? { folder_id: Number(folder) } : { no_folder: true }) };
      const out = saved ? await api.patch<KBArticle>("/api/v1/kb/articles/" + saved.id, payload) : await api.post<KBArticle>("/api/v1/kb/articles", payload);
      setSaved(out);
      setPreview(out.html ?? "");
      setProblems([]);
      onSaved(out);
    } catch (err) {
      setProblems(problemsOf(t, err));
    } finally {
      setSaving(false);
    }
  };
  const upload = async (file: File) => {
    const form = new FormData();
    form.append("file", file, file.name);
    try {
      const r = await api.post<{ markdown: string }>("/api/v1/kb/images", form);
      setBody((b) => (b.trim() ? b.replace(/\s*$/, "") + "\n\n" : "") + r.markdown + "\n");
    } catch (err) {
      setProblems(problemsOf(t, err));
    }
  };

  const heading = article ? t("settings.kb.editNamed", { name: article.title }) : t("settings.kb.new");
  return (
    <form className="settings-form" onSubmit={(e) => void save(e)} noValidate aria-label={heading}>
      <h2>{heading}</h2>
      <Problems lines={problems} />
      <div className="settings-field">
        <label htmlFor="kb-title-in">{t("settings.kb.articleTitle")}</label>
        <input id="kb-title-in" value={title} maxLength={200} onChange={(e) => setTitle(e.target.value)} />
      </div>
      <div className="settings-field">
        <label htmlFor="kb-folder-in">{t("settings.kb.folder")}</label>
        <select id="kb-folder-in" value={folder} onChange={(e) => setFolder(e.target.value)}>
          <option value="">{t("settings.kb.noFolder")}</option>
          {folders.map((f) => (
            <option key={f.id} value={String(f.id)}>{f.name}</option>
          ))}
        </select>
      </div>
      <div className="settings-field">
        <label htmlFor="kb-status-in">{t("settings.kb.status")}</label>
        <select id="kb-status-in" value={status} onChange={(e) => setStatus(e.target.value as "draft" | "published")}>
          <option value="draft">{t("settings.kb.draft")}</option>
          <option value="published">{t("settings.kb.published")}</option>
        </select>
      </div>
      <label className="inline">
        <input type="checkbox" checked={isPublic} onChange={(e) => setPublic(e.target.checked)} /> {t("settings.kb.publicLabel")}
      </label>
      <div className="settings-field">
        <label htmlFor="kb-body-in">{t("settings.kb.body")}</label>
        <textarea id="kb-body-in" rows={14} value={body} aria-describedby="kb-body-hint" onChange={(e) => setBody(e.target.value)} />
        <span className="hint" id="kb-body-hint">{t("settings.kb.bodyHint")}</span>
        <label className="inline">
          {t("settings.kb.addImage")}{" "}
          <input type="file" accept="image/png,image/jpeg,image/gif,image/webp" onChange={(e) => { const f = e.target.files?.[0]; if (f) void upload(f); e.target.value = ""; }} />
        </label>
      </div>
      <div className="settings-actions">
        <button type="submit" className="primary" disabled={saving}>{t("settings.kb.save")}</button>
        <button type="button" onClick={onCancel}>{t("settings.kb.backToList")}</button>
        {saved?.public_url && <a href={saved.public_url} target="_blank" rel="noreferrer">{t("settings.kb.openPublic")}</a>}
      </div>
      {preview && (
        <section aria-label={t("settings.kb.preview")} className="kb-preview">
          <h3>{t("settings.kb.preview")}</h3>
          {/* Rendered by the server without raw HTML or script links. */}
          <div dangerouslySetInnerHTML={{ __html: preview }} />
        </section>
      )}
    </form>
  );
}
