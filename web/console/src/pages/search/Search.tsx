// Search (issue 12, X09): messages, conversations and clients by their words, with the filters
// an operator narrows by. The query lives in the URL, so a search can be reloaded and shared; the
// server decides what the user may see, and marks the words it matched as plain-text pieces.
import { useEffect, useState, type FormEvent } from "react";
import { api, query } from "../../lib/api";
import { formatTime, useI18n, useT } from "../../lib/i18n";
import { linkHandler, navigate, type Location } from "../../lib/router";
import type { Line } from "../../lib/types";
import { ErrorNote } from "../admin/channels/form";
import { conversationPath } from "../conversation/util";
import "./search.css";

type Kind = "messages" | "conversations" | "contacts";

interface Contact {
  id: number;
  name: string;
  email: string;
  phone: string;
}

export interface Hit {
  kind: Kind;
  message_id?: string;
  direction?: "in" | "out" | "note";
  at: string;
  snippet: { text: string; match?: boolean }[];
  conversation?: { number: number; title: string; status: string; channel_kind: string; contact: Contact };
  contact?: Contact;
}

interface Page {
  items: Hit[];
  next_cursor: string | null;
}

const statuses = ["queued", "active", "paused", "closed"] as const;

/** Snippet draws the found text with the matched words marked; it is text, never HTML. */
export function Snippet({ parts }: { parts: Hit["snippet"] }) {
  return (
    <span className="snippet">
      {parts.map((p, i) => (p.match ? <mark key={i}>{p.text}</mark> : <span key={i}>{p.text}</span>))}
    </span>
  );
}

/** searchParams is the API query of the screen's URL: only what the API takes. */
function searchParams(params: URLSearchParams) {
  const out: Record<string, string> = {};
  for (const k of ["q", "kind", "line", "status", "from", "to"]) {
    const v = params.get(k);
    if (v) out[k] = v;
  }
  return out;
}

export function Search({ loc }: { loc: Location }) {
  const t = useT();
  const { lang } = useI18n();
  const wanted = searchParams(loc.params);
  const key = query(wanted);
  const [form, setForm] = useState(wanted);
  const [lines, setLines] = useState<Line[]>([]);
  const [page, setPage] = useState<Page | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.get<{ items: Line[] }>("/api/v1/lines").then((r) => setLines(r.items), () => setLines([]));
  }, []);
  useEffect(() => setForm(searchParams(new URLSearchParams(key))), [key]);
  useEffect(() => {
    const p = searchParams(new URLSearchParams(key));
    if (!p.q) {
      setPage(null);
      return;
    }
    let live = true;
    setBusy(true);
    api.get<Page>("/api/v1/search" + query(p)).then(
      (r) => {
        if (!live) return;
        setPage(r);
        setError(null);
        setBusy(false);
      },
      (err) => {
        if (!live) return;
        setError(err);
        setPage(null);
        setBusy(false);
      },
    );
    return () => {
      live = false;
    };
  }, [key]);

  const set = (k: string, v: string) => setForm((f) => ({ ...f, [k]: v }));
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    const clean = Object.fromEntries(Object.entries(form).filter(([, v]) => v));
    navigate("/search" + query(clean));
  };
  const more = async () => {
    if (!page?.next_cursor) return;
    try {
      const r = await api.get<Page>("/api/v1/search" + query({ ...wanted, cursor: page.next_cursor }));
      setPage({ items: [...page.items, ...r.items], next_cursor: r.next_cursor });
    } catch (err) {
      setError(err);
    }
  };
  const kind = (wanted.kind || "messages") as Kind;

  return (
    <div className="search-screen">
      <h1>{t("search.title")}</h1>
      <form className="search-form" role="search" onSubmit={submit}>
        <label className="search-words">
          <span className="visually-hidden">{t("search.words")}</span>
          <input type="search" name="q" value={form.q ?? ""} autoFocus placeholder={t("search.placeholder")}
            aria-label={t("search.words")} maxLength={200} onChange={(e) => set("q", e.target.value)} />
        </label>
        <label>
          <span>{t("search.kind")}</span>
          <select value={form.kind ?? "messages"} onChange={(e) => set("kind", e.target.value === "messages" ? "" : e.target.value)}>
            <option value="messages">{t("search.kind.messages")}</option>
            <option value="conversations">{t("search.kind.conversations")}</option>
            <option value="contacts">{t("search.kind.contacts")}</option>
          </select>
        </label>
        <label>
          <span>{t("search.line")}</span>
          <select value={form.line ?? ""} onChange={(e) => set("line", e.target.value)}>
            <option value="">{t("search.anyLine")}</option>
            {lines.map((l) => (
              <option key={l.id} value={String(l.id)}>{l.name}</option>
            ))}
          </select>
        </label>
        <label>
          <span>{t("search.status")}</span>
          <select value={form.status ?? ""} onChange={(e) => set("status", e.target.value)}>
            <option value="">{t("search.anyStatus")}</option>
            {statuses.map((s) => (
              <option key={s} value={s}>{t(("conv.status." + s) as "conv.status.active")}</option>
            ))}
          </select>
        </label>
        <label>
          <span>{t("search.from")}</span>
          <input type="date" value={form.from ?? ""} onChange={(e) => set("from", e.target.value)} />
        </label>
        <label>
          <span>{t("search.to")}</span>
          <input type="date" value={form.to ?? ""} onChange={(e) => set("to", e.target.value)} />
        </label>
        <button type="submit" disabled={!form.q?.trim()}>{t("search.find")}</button>
      </form>
      <p className="muted search-hint">{t("search.hint")}</p>
      <ErrorNote error={error} />
      {busy && !page && <p className="muted">{t("common.loading")}</p>}
      {page && page.items.length === 0 && <p className="empty">{t("search.none")}</p>}
      {page && page.items.length > 0 && (
        <ol className="search-results" aria-label={t("search.kind." + kind as "search.kind.messages")}>
          {page.items.map((h) => (
            <li key={h.message_id ?? h.conversation?.number ?? "c" + h.contact?.id}>
              {h.conversation ? <ConversationHit hit={h} lang={lang} /> : h.contact && <ContactHit contact={h.contact} />}
            </li>
          ))}
        </ol>
      )}
      {page?.next_cursor && (
        <button type="button" className="link" onClick={() => void more()}>{t("common.more")}</button>
      )}
    </div>
  );
}

function ConversationHit({ hit, lang }: { hit: Hit; lang: "ru" | "en" }) {
  const t = useT();
  const c = hit.conversation!;
  const path = conversationPath(c.number);
  return (
    <article className={"search-hit" + (hit.direction ? " dir-" + hit.direction : "")}>
      <header>
        <a href={path} onClick={linkHandler(path)}>{t("search.conversation", { n: c.number })}</a>
        <span>{c.contact.name || c.contact.email || c.contact.phone}</span>
        {hit.direction && <span className="tag">{t(("search.dir." + hit.direction) as "search.dir.in")}</span>}
        <span className="tag">{t(("conv.status." + c.status) as "conv.status.active")}</span>
        <time dateTime={hit.at}>{formatTime(lang, hit.at, true)}</time>
      </header>
      {hit.kind === "conversations" && c.title && <strong className="search-title">{c.title}</strong>}
      {(hit.kind === "messages" || hit.snippet.some((p) => p.match)) && <p><Snippet parts={hit.snippet} /></p>}
    </article>
  );
}

/** ContactHit is a client found; their conversations open under them. */
function ContactHit({ contact }: { contact: Contact }) {
  const t = useT();
  const { lang } = useI18n();
  const [convs, setConvs] = useState<{ number: number; title: string; status: string; created_at: string }[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const open = async () => {
    try {
      const r = await api.get<{ items: { number: number; title: string; status: string; created_at: string }[] }>(
        `/api/v1/contacts/${contact.id}/conversations` + query({ limit: 10 }));
      setConvs(r.items);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <article className="search-hit">
      <header>
        <strong>{contact.name || "—"}</strong>
        {contact.email && <span>{contact.email}</span>}
        {contact.phone && <span>{contact.phone}</span>}
        {convs === null && <button type="button" className="link" onClick={() => void open()}>{t("search.conversations")}</button>}
      </header>
      <ErrorNote error={error} />
      {convs && convs.length === 0 && <p className="muted">{t("search.noConversations")}</p>}
      {convs && convs.length > 0 && (
        <ul>
          {convs.map((c) => (
            <li key={c.number}>
              <a href={conversationPath(c.number)} onClick={linkHandler(conversationPath(c.number))}>{t("search.conversation", { n: c.number })}</a>{" "}
              {c.title} · {t(("conv.status." + c.status) as "conv.status.active")} · {formatTime(lang, c.created_at, true)}
            </li>
          ))}
        </ul>
      )}
    </article>
  );
}
