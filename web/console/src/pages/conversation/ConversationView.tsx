// One conversation: its header and actions, the messages (live), the composer, the wrap-up form,
// and the client panel. The inbox shows it in its right pane (/inbox/:number); /conversations/:n
// shows it full width. Alt+R focuses the reply, Alt+N a note, Alt+C opens the wrap-up form.
import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../../lib/api";
import { events } from "../../lib/events";
import { useT } from "../../lib/i18n";
import type { Conversation, Message } from "../../lib/types";
import { ClientPanel } from "./ClientPanel";
import { Composer, type ComposerHandle } from "./Composer";
import { KnowledgePanel } from "./KnowledgePanel";
import { LinksPanel } from "./LinksPanel";
import { Header, type Action } from "./Header";
import { Messages } from "./Messages";
import { WrapUp } from "./WrapUp";
import { errorText, isOwner } from "./util";
import { useSession } from "../../lib/session";
import "./conversation.css";

/** upsert merges messages by id (a live event may arrive before or after the list), in time order. */
function upsert(list: Message[], more: Message[]): Message[] {
  const byId = new Map(list.map((m) => [m.id, m]));
  for (const m of more) byId.set(m.id, { ...byId.get(m.id), ...m });
  return [...byId.values()].sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id < b.id ? -1 : 1));
}

export function ConversationView({ number }: { number: number }) {
  const t = useT();
  const me = useSession();
  const [conv, setConv] = useState<Conversation | null>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  const [error, setError] = useState("");
  const [actionError, setActionError] = useState("");
  const [closing, setClosing] = useState(false);
  const composer = useRef<ComposerHandle>(null);
  const [clientTyping, setClientTyping] = useState(false);

  const loadConversation = useCallback(async () => {
    try {
      setConv(await api.get<Conversation>(`/api/v1/conversations/${number}`));
      setError("");
    } catch (err) {
      setError(errorText(t, err));
    }
  }, [number, t]);

  const loadMessages = useCallback(async () => {
    try {
      const r = await api.get<{ items: Message[] }>(`/api/v1/conversations/${number}/messages`);
      setMessages((old) => upsert(old.filter((m) => m.conversation === number), r.items));
    } catch {
      // the conversation's own load reports the error
    }
  }, [number]);

  useEffect(() => {
    setConv(null);
    setMessages([]);
    setClosing(false);
    setActionError("");
    void loadConversation();
    void loadMessages();
  }, [loadConversation, loadMessages]);

  // Live: a message event carries the message's first 500 characters, so it shows at once and
  // the list is read again for the whole message; conversation events reload the header.
  useEffect(() => {
    let msgTimer: ReturnType<typeof setTimeout> | undefined;
    let convTimer: ReturnType<typeof setTimeout> | undefined;
    let typingTimer: ReturnType<typeof setTimeout> | undefined;
    const off = events.subscribe((e) => {
      if (e.conversation !== number) return;
      if (e.kind === "typing") {
        if ((e.data as { who?: string }).who !== "client") return;
        setClientTyping(true);
        clearTimeout(typingTimer);
        typingTimer = setTimeout(() => setClientTyping(false), 5000);
        return;
      }
      if (e.kind === "message" || e.kind === "message.status") {
        if ((e.data as { direction?: string }).direction === "in") setClientTyping(false);
        const d = e.data as Partial<Message> & { id?: string };
        if (d.id) {
          setMessages((old) => {
            const known = old.find((m) => m.id === d.id);
            if (known) return upsert(old, [{ ...known, status: d.status ?? known.status }]);
            if (e.kind !== "message" || !d.created_at || !d.direction) return old;
            return upsert(old, [
              {
                id: d.id!,
                chat_id: d.chat_id ?? "",
                conversation: number,
                direction: d.direction,
                author: null,
                text: d.text ?? "",
                attachments: [],
                buttons: [],
                status: d.status ?? "",
                created_at: d.created_at,
              },
            ]);
          });
        }
        clearTimeout(msgTimer);
        msgTimer = setTimeout(() => void loadMessages(), 150);
        if (e.kind === "message") {
          clearTimeout(convTimer);
          convTimer = setTimeout(() => void loadConversation(), 300);
        }
      } else if (e.kind.startsWith("conversation.")) {
        clearTimeout(convTimer);
        convTimer = setTimeout(() => void loadConversation(), 100);
      }
    });
    const offReset = events.onReset(() => {
      void loadConversation();
      void loadMessages();
    });
    return () => {
      clearTimeout(msgTimer);
      clearTimeout(convTimer);
      clearTimeout(typingTimer);
      off();
      offReset();
    };
  }, [number, loadConversation, loadMessages]);

  const canClose = !!conv && conv.status !== "closed" && (isOwner(me, conv) || !conv.assignee);

  // Keyboard: Alt+R reply, Alt+N note, Alt+C close (by key position, so any layout works).
  useEffect(() => {
    const onKey = (ev: KeyboardEvent) => {
      if (!ev.altKey || ev.ctrlKey || ev.metaKey) return;
      if (ev.code === "KeyR") composer.current?.focus("reply");
      else if (ev.code === "KeyN") composer.current?.focus("note");
      else if (ev.code === "KeyC" && canClose) setClosing(true);
      else return;
      ev.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [canClose]);

  const onAction = async (a: Action) => {
    setActionError("");
    try {
      setConv(await api.post<Conversation>(`/api/v1/conversations/${number}/${a}`));
    } catch (err) {
      setActionError(errorText(t, err));
      void loadConversation();
    }
  };

  // Who else has the conversation open, and who of them is typing (X08): each console says so
  // every 20 s; a colleague not heard from for 45 s is gone.
  const [others, setOthers] = useState<Record<number, { name: string; seen: number; typing: number }>>({});
  const [clock, setClock] = useState(() => Date.now());
  useEffect(() => {
    const say = () => api.post(`/api/v1/conversations/${number}/viewing`).catch(() => undefined);
    void say();
    const tell = setInterval(say, 20_000);
    const tick = setInterval(() => setClock(Date.now()), 5_000);
    const off = events.subscribe((e) => {
      if (e.conversation !== number || (e.kind !== "viewing" && e.kind !== "typing")) return;
      const d = e.data as { user_id?: number; name?: string; who?: string };
      if (!d.user_id || d.user_id === me.user.id || (e.kind === "typing" && d.who !== "operator")) return;
      const now = Date.now();
      setOthers((o) => ({ ...o, [d.user_id!]: { name: d.name ?? "", seen: now, typing: e.kind === "typing" ? now : o[d.user_id!]?.typing ?? 0 } }));
      setClock(now);
    });
    return () => {
      clearInterval(tell);
      clearInterval(tick);
      off();
    };
  }, [number, me.user.id]);
  const here = Object.values(others).filter((o) => clock - o.seen < 45_000);

  // The knowledge panel looks again when the client writes.
  const lastClientMessage = messages.filter((m) => m.direction === "in").at(-1)?.id ?? "";

  if (error && !conv) {
    return (
      <section className="conv">
        <p className="error banner" role="alert">
          {error}
        </p>
      </section>
    );
  }
  if (!conv) return <p className="empty">{t("common.loading")}</p>;

  return (
    <section className="conv" aria-label={t("conv.label", { number })}>
      <div className="conv-main">
        <Header
          conversation={conv}
          onAction={onAction}
          onClose={() => setClosing(true)}
          onChanged={(c) => {
            setActionError("");
            setConv(c);
          }}
        />
        {actionError && (
          <p className="error banner" role="alert">
            {actionError}
          </p>
        )}
        <Messages number={number} items={messages} onChanged={(m) => setMessages((old) => upsert(old, [m]))} />
        <p className="conv-typing" aria-live="polite">{clientTyping ? t("conv.clientTyping") : ""}</p>
        {here.length > 0 && (
          <p className="conv-others" role="status">
            {t("conv.others")} {here.map((o) => (clock - o.typing < 6_000 ? t("conv.others.typing", { name: o.name }) : o.name)).join(", ")}
          </p>
        )}
        <Composer ref={composer} conversation={conv} onSent={(m) => setMessages((old) => upsert(old, [m]))} />
      </div>
      <div className="conv-side">
        <ClientPanel conversation={conv} onChanged={setConv} />
        <LinksPanel number={number} />
        <KnowledgePanel number={number} lastClientMessage={lastClientMessage} onInsert={(text) => composer.current?.insert(text)} />
      </div>
      {closing && (
        <WrapUp
          conversation={conv}
          onCancel={() => setClosing(false)}
          onDone={(c) => {
            setClosing(false);
            setConv(c);
          }}
        />
      )}
    </section>
  );
}
