// Linked records (issue 12, F105, F106, F111; seed 004 "+Связать"): the items the conversation
// made in its line's external app (a complaint, a ticket, an order), and a form that makes one
// from the session. A repeated click with the same form is the same request (Idempotency-Key).
import { useEffect, useState, type FormEvent } from "react";
import { api, request } from "../../lib/api";
import { useT } from "../../lib/i18n";
import { errorText } from "./util";

interface Link {
  id: number;
  app_name: string;
  kind: string;
  external_id: string;
  title: string;
  url: string;
}
interface Links {
  items: Link[];
  app: { id: number; name: string; kinds: string[] } | null;
}

const requestKey = () => `link-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;

export function LinksPanel({ number }: { number: number }) {
  const t = useT();
  const [links, setLinks] = useState<Links | null>(null);
  const [form, setForm] = useState<{ kind: string; title: string; note: string; key: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");

  useEffect(() => {
    let live = true;
    api.get<Links>(`/api/v1/conversations/${number}/links`).then((r) => live && setLinks(r), (err) => live && setError(errorText(t, err)));
    return () => {
      live = false;
    };
  }, [number, t]);

  if (!links || (!links.app && links.items.length === 0)) return error ? <p className="error" role="alert">{error}</p> : null;
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    if (!form) return;
    setBusy(true);
    try {
      const made = await request<Link>("POST", `/api/v1/conversations/${number}/links`, { kind: form.kind, title: form.title, note: form.note },
        { headers: { "Idempotency-Key": form.key } });
      setLinks((l) => l && { ...l, items: l.items.some((x) => x.id === made.id) ? l.items : [...l.items, made] });
      setForm(null);
      setError("");
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="conv-panel conv-links" aria-label={t("conv.links.title")}>
      <h2>{t("conv.links.title")}</h2>
      {error && <p className="error" role="alert">{error}</p>}
      {links.items.length === 0 ? (
        <p className="muted">{t("conv.links.none")}</p>
      ) : (
        <ul className="conv-list">
          {links.items.map((l) => (
            <li key={l.id}>
              <span className="muted">{l.app_name} · {l.kind}</span>{" "}
              {l.url ? <a href={l.url} target="_blank" rel="noreferrer noopener">{l.external_id}</a> : l.external_id}
              {l.title && <> — {l.title}</>}
            </li>
          ))}
        </ul>
      )}
      {links.app && !form && (
        <button type="button" onClick={() => setForm({ kind: links.app!.kinds[0] ?? "", title: "", note: "", key: requestKey() })}>
          {t("conv.links.add", { app: links.app.name })}
        </button>
      )}
      {links.app && form && (
        <form className="conv-link-form" onSubmit={(e) => void submit(e)}>
          <label><span>{t("conv.links.kind")}</span>
            <select value={form.kind} onChange={(e) => setForm({ ...form, kind: e.target.value })}>
              {links.app.kinds.map((k) => <option key={k} value={k}>{k}</option>)}
            </select></label>
          <label><span>{t("conv.links.itemTitle")}</span>
            <input value={form.title} maxLength={200} onChange={(e) => setForm({ ...form, title: e.target.value })} /></label>
          <label><span>{t("conv.links.note")}</span>
            <textarea rows={3} value={form.note} maxLength={5000} onChange={(e) => setForm({ ...form, note: e.target.value })} /></label>
          <div className="kb-actions">
            <button type="submit" disabled={busy}>{t("conv.links.create")}</button>
            <button type="button" className="link" onClick={() => setForm(null)}>{t("common.cancel")}</button>
          </div>
        </form>
      )}
    </section>
  );
}
