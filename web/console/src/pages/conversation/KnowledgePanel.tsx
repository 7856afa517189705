// The knowledge panel (issue 12, F041; seed 001: "the instruction from the knowledge base helps
// you solve it"): the articles that answer the client's last message, a search over the rest,
// and an article read in place, whose text or public link goes into the reply.
import { useEffect, useState, type FormEvent } from "react";
import { api, query } from "../../lib/api";
import { useT } from "../../lib/i18n";
import { Snippet } from "../search/Search";
import { errorText } from "./util";

export interface ArticleHit {
  id: number;
  title: string;
  snippet: { text: string; match?: boolean }[];
}

interface Article extends ArticleHit {
  body: string;
  html: string;
  public_url?: string;
}

/** plainText is an article's Markdown as a client reads it in a messenger: no markup. */
export function plainText(md: string): string {
  return md
    .replace(/!\[([^\]]*)\]\(([^)\s]+)[^)]*\)/g, "$2")
    .replace(/\[([^\]]+)\]\(([^)\s]+)[^)]*\)/g, "$1 ($2)")
    .replace(/^#{1,6}\s+/gm, "")
    .replace(/^[ \t]*[-*+][ \t]+/gm, "• ")
    .replace(/(\*\*|__)(.+?)\1/g, "$2")
    .replace(/(^|[^\p{L}\p{N}])[*_]([^*_\n]+)[*_](?![\p{L}\p{N}])/gu, "$1$2")
    .replace(/`([^`]+)`/g, "$1")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

export function KnowledgePanel({ number, lastClientMessage, onInsert }: { number: number; lastClientMessage: string; onInsert: (text: string) => void }) {
  const t = useT();
  const [suggested, setSuggested] = useState<ArticleHit[] | null>(null);
  const [words, setWords] = useState("");
  const [found, setFound] = useState<ArticleHit[] | null>(null);
  const [open, setOpen] = useState<Article | null>(null);
  const [error, setError] = useState("");

  useEffect(() => {
    let live = true;
    api.get<{ items: ArticleHit[] }>(`/api/v1/conversations/${number}/kb-suggestions`).then(
      (r) => live && setSuggested(r.items ?? []),
      (err) => live && setError(errorText(t, err)),
    );
    return () => {
      live = false;
    };
  }, [number, lastClientMessage, t]);

  const search = async (ev: FormEvent) => {
    ev.preventDefault();
    if (!words.trim()) {
      setFound(null);
      return;
    }
    try {
      setFound((await api.get<{ items: ArticleHit[] }>("/api/v1/kb/articles" + query({ q: words.trim(), limit: 10 }))).items);
      setError("");
    } catch (err) {
      setError(errorText(t, err));
    }
  };
  const read = async (id: number) => {
    try {
      setOpen(await api.get<Article>(`/api/v1/kb/articles/${id}`));
      setError("");
    } catch (err) {
      setError(errorText(t, err));
    }
  };
  const list = (items: ArticleHit[]) => (
    <ul className="kb-list">
      {items.map((a) => (
        <li key={a.id}>
          <button type="button" className="link" onClick={() => void read(a.id)}>{a.title}</button>
          {a.snippet.length > 0 && <Snippet parts={a.snippet} />}
        </li>
      ))}
    </ul>
  );

  return (
    <section className="conv-panel conv-kb" aria-label={t("conv.kb.title")}>
      <h2>{t("conv.kb.title")}</h2>
      {error && <p className="error" role="alert">{error}</p>}
      {open ? (
        <article className="kb-article">
          <h3>{open.title}</h3>
          {/* The server renders the Markdown without raw HTML or script links (goldmark's safe mode). */}
          <div className="kb-body" dangerouslySetInnerHTML={{ __html: open.html }} />
          <div className="kb-actions">
            <button type="button" onClick={() => onInsert(plainText(open.body))}>{t("conv.kb.insertText")}</button>
            {open.public_url && <button type="button" onClick={() => onInsert(open.title + ": " + open.public_url)}>{t("conv.kb.insertLink")}</button>}
            <button type="button" className="link" onClick={() => setOpen(null)}>{t("conv.kb.back")}</button>
          </div>
        </article>
      ) : (
        <>
          <form className="kb-search" role="search" onSubmit={(ev) => void search(ev)}>
            <input type="search" value={words} aria-label={t("conv.kb.search")} placeholder={t("conv.kb.search")} maxLength={200}
              onChange={(e) => setWords(e.target.value)} />
            <button type="submit">{t("conv.kb.find")}</button>
          </form>
          {found !== null ? (
            <>
              <h3>{t("conv.kb.found")}</h3>
              {found.length === 0 ? <p className="muted">{t("conv.kb.nothing")}</p> : list(found)}
            </>
          ) : (
            <>
              <h3>{t("conv.kb.suggested")}</h3>
              {suggested === null ? <p className="muted">{t("common.loading")}</p> : suggested.length === 0 ? <p className="muted">{t("conv.kb.none")}</p> : list(suggested)}
            </>
          )}
        </>
      )}
    </section>
  );
}
