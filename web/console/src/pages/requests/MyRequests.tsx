// My requests (issue 12, F107, F023): an employee writes to an internal desk of the company (IT,
// HR, accounting) from inside linedesk, and follows the answers. Read every few seconds: the
// employee is the client here, not an operator of the desk's line, so the live stream does not
// carry the desk's replies to them.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api, request } from "../../lib/api";
import { formatTime, useI18n } from "../../lib/i18n";
import { ErrorNote } from "../admin/channels/form";
import "../search/search.css";

interface Desk {
  channel_id: number;
  name: string;
  line_name: string;
}
interface Req {
  chat_id: string;
  desk: string;
  last_text: string;
  last_at: string | null;
  status: string;
  operator_name: string;
}
interface Msg {
  id: string;
  direction: "in" | "out";
  text: string;
  author: string;
  created_at: string;
}

const newKey = () => `req-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;

export function MyRequests() {
  const { t, lang } = useI18n();
  const [desks, setDesks] = useState<Desk[] | null>(null);
  const [reqs, setReqs] = useState<Req[]>([]);
  const [open, setOpen] = useState<string | null>(null);
  const [thread, setThread] = useState<Msg[]>([]);
  const [desk, setDesk] = useState("");
  const [text, setText] = useState("");
  const [reply, setReply] = useState("");
  const [key, setKey] = useState(newKey);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async () => {
    try {
      setReqs((await api.get<{ items: Req[] }>("/api/v1/internal/requests")).items);
      if (open) setThread((await api.get<{ items: Msg[] }>(`/api/v1/internal/requests/${open}/messages`)).items);
    } catch (err) {
      setError(err);
    }
  }, [open]);
  useEffect(() => {
    api.get<{ items: Desk[] }>("/api/v1/internal/desks").then((r) => {
      setDesks(r.items);
      if (r.items.length) setDesk(String(r.items[0].channel_id));
    }, setError);
  }, []);
  useEffect(() => {
    void load();
    const id = setInterval(() => void load(), 4000);
    return () => clearInterval(id);
  }, [load]);

  const send = async (ev: FormEvent, path: string, body: Record<string, unknown>, done: (chat: string) => void) => {
    ev.preventDefault();
    try {
      const r = await request<{ chat_id: string }>("POST", path, body, { headers: { "Idempotency-Key": key } });
      setKey(newKey());
      setError(null);
      done(r.chat_id);
      void load();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <div className="search-screen">
      <h1>{t("requests.title")}</h1>
      <ErrorNote error={error} />
      {desks !== null && desks.length === 0 && <p className="empty">{t("requests.noDesk")}</p>}
      {desks && desks.length > 0 && (
        <form className="search-form" onSubmit={(e) => void send(e, "/api/v1/internal/requests", { channel_id: Number(desk), text }, (chat) => {
          setText("");
          setOpen(chat);
        })}>
          <label><span>{t("requests.desk")}</span>
            <select value={desk} onChange={(e) => setDesk(e.target.value)}>
              {desks.map((d) => <option key={d.channel_id} value={String(d.channel_id)}>{d.line_name}</option>)}
            </select></label>
          <label className="search-words"><span>{t("requests.text")}</span>
            <textarea rows={3} value={text} maxLength={4096} onChange={(e) => setText(e.target.value)} /></label>
          <button type="submit" disabled={!text.trim()}>{t("requests.send")}</button>
        </form>
      )}
      {reqs.length > 0 && (
        <ol className="search-results" aria-label={t("requests.list")}>
          {reqs.map((r) => (
            <li key={r.chat_id}>
              <article className="search-hit">
                <header>
                  <button type="button" className="link" onClick={() => setOpen(r.chat_id)}>{r.desk}</button>
                  <span className="tag">{r.status ? t(("conv.status." + r.status) as "conv.status.active") : t("requests.waiting")}</span>
                  {r.operator_name && <span>{r.operator_name}</span>}
                  {r.last_at && <time dateTime={r.last_at}>{formatTime(lang, r.last_at, true)}</time>}
                </header>
                <p>{r.last_text}</p>
                {open === r.chat_id && (
                  <section className="request-thread" aria-label={t("requests.thread")}>
                    {thread.map((m) => (
                      <p key={m.id} className={"req-msg " + m.direction}>
                        <strong>{m.direction === "in" ? t("requests.you") : m.author || r.desk}:</strong> {m.text}
                      </p>
                    ))}
                    <form onSubmit={(e) => void send(e, `/api/v1/internal/requests/${r.chat_id}/messages`, { text: reply }, () => setReply(""))}>
                      <textarea rows={2} value={reply} aria-label={t("requests.reply")} placeholder={t("requests.reply")} onChange={(e) => setReply(e.target.value)} />
                      <button type="submit" disabled={!reply.trim()}>{t("requests.send")}</button>
                    </form>
                  </section>
                )}
              </article>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
