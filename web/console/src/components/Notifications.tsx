// The notification bell (issue 8, item 4): what needs the user's attention, from the live event
// stream — a new conversation in their queues, one assigned to them by someone else, a client
// message in their conversation, an SLA warning or breach — plus the server's own notifications
// (GET /api/v1/notifications, which also keeps what arrived while the tab was closed). Each new
// one plays a short tone, shows a desktop notification when the user allowed them, and counts
// in the tab title. After a reconnect the event stream replays what was missed; a `reset`
// reloads the list.
import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../lib/api";
import { events, type LiveEvent } from "../lib/events";
import { formatTime, useI18n, type T } from "../lib/i18n";
import { navigate } from "../lib/router";
import { useSession } from "../lib/session";
import type { Me } from "../lib/types";

export interface ServerNotification {
  id: number;
  kind: string;
  text: string;
  data: Record<string, unknown>;
  created_at: string;
  read_at: string | null;
}

/** Alert is one thing to tell the user, whether the server stored it or the console saw it. */
export interface Alert {
  /** key groups repeats of the same news (one conversation assigned, one SLA warning). */
  key: string;
  kind: "new_conversation" | "assigned" | "message" | "sla_warning" | "sla_breached" | "other";
  conversation: number | null;
  /** local: seen on the stream only (the server keeps no notification for it). */
  local: boolean;
}

const assignKinds = ["conversation.assigned", "conversation.transferred", "conversation.taken", "conversation.routed"];

function num(v: unknown): number | null {
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : NaN;
  return Number.isFinite(n) && n > 0 ? n : null;
}

/** queueLines are the lines whose unassigned queue the user sees (null: every line, admins). */
function queueLines(me: Me): number[] | null {
  if (me.user.role === "admin") return null;
  const hasPerm = me.access.permissions.includes("unassigned_queue");
  return [...me.access.queue_lines, ...me.access.supervisor_lines, ...(hasPerm ? me.access.operator_lines : [])];
}

/** classify turns a live event into an alert for this user, or null when it is none of theirs. */
export function classify(e: LiveEvent, me: Me): Alert | null {
  const n = e.conversation ?? null;
  const actor = num((e.data as { actor_id?: unknown }).actor_id);
  switch (e.kind) {
    case "notification": {
      const d = e.data as { kind?: string; data?: Record<string, unknown> };
      const c = num(d.data?.conversation) ?? n;
      const k = d.kind ?? "";
      if (k === "assigned" || k === "transferred" || k === "routed") return { key: "assigned:" + c, kind: "assigned", conversation: c, local: false };
      if (k === "sla_warning" || k === "sla_breached") return { key: k + ":" + c, kind: k, conversation: c, local: false };
      return { key: "n:" + String((e.data as { id?: unknown }).id ?? e.id), kind: "other", conversation: c, local: false };
    }
    case "conversation.opened":
    case "conversation.routed":
      if (n !== null && e.status === "queued" && !e.assignee_id) {
        const lines = queueLines(me);
        if (lines === null || (e.line_id !== undefined && lines.includes(e.line_id)))
          return { key: "new:" + n, kind: "new_conversation", conversation: n, local: true };
        return null;
      }
      break;
    case "message": {
      const d = e.data as { direction?: string };
      if (d.direction === "in" && n !== null && e.assignee_id === me.user.id) return { key: "message:" + n + ":" + e.id, kind: "message", conversation: n, local: true };
      return null;
    }
    case "conversation.sla_warning":
    case "conversation.sla_breached":
      if (n !== null && e.assignee_id === me.user.id) {
        const k = e.kind === "conversation.sla_warning" ? "sla_warning" : "sla_breached";
        // The server also records a notification for it; this only rings the bell sooner.
        return { key: k + ":" + n, kind: k, conversation: n, local: false };
      }
      return null;
  }
  if (assignKinds.includes(e.kind) && n !== null && e.assignee_id === me.user.id && actor !== me.user.id) {
    return { key: "assigned:" + n, kind: "assigned", conversation: n, local: e.kind === "conversation.taken" };
  }
  return null;
}

/** alertText is the user-language text of an alert. */
export function alertText(t: T, kind: string, conversation: number | null): string {
  const n = conversation ?? "";
  switch (kind) {
    case "new_conversation":
      return t("notify.newConversation", { n });
    case "assigned":
    case "transferred":
    case "routed":
      return t("notify.assigned", { n });
    case "message":
      return t("notify.message", { n });
    case "sla_warning":
      return t("notify.slaWarning", { n });
    case "sla_breached":
      return t("notify.slaBreached", { n });
    case "delivery_failed":
      return t("notify.deliveryFailed", { n });
    case "comment":
      return t("notify.comment", { n });
    case "task_starts":
      return t("notify.taskStarts", { n });
  }
  return t("notify.other");
}

let audio: AudioContext | null = null;
let lastTone = 0;

/** tone plays a short beep (no sound file: an oscillator), at most once a second and a half. */
export function tone() {
  const now = Date.now();
  if (now - lastTone < 1500) return;
  lastTone = now;
  try {
    const Ctx = window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
    if (!Ctx) return;
    audio ??= new Ctx();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "sine";
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.08, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.25);
  } catch {
    /* no audio here */
  }
}

interface LocalItem {
  key: string;
  kind: string;
  conversation: number | null;
  at: string;
  read: boolean;
}

const soundKey = "linedesk.sound";
const baseTitle = () => document.title.replace(/^\(\d+\) /, "");

export function NotificationBell() {
  const { t, lang } = useI18n();
  const me = useSession();
  const [server, setServer] = useState<ServerNotification[]>([]);
  const [serverUnread, setServerUnread] = useState(0);
  const [local, setLocal] = useState<LocalItem[]>([]);
  const [open, setOpen] = useState(false);
  const [sound, setSound] = useState(() => localStorage.getItem(soundKey) !== "off");
  const [permission, setPermission] = useState<string>(() => (typeof Notification === "undefined" ? "unsupported" : Notification.permission));
  const recent = useRef(new Map<string, number>());
  const soundRef = useRef(sound);
  soundRef.current = sound;
  const tRef = useRef(t);
  tRef.current = t;
  const wrap = useRef<HTMLDivElement>(null);

  const reload = useCallback(async () => {
    try {
      const r = await api.get<{ items: ServerNotification[]; unread?: number }>("/api/v1/notifications");
      setServer(r.items ?? []);
      setServerUnread(r.unread ?? (r.items ?? []).filter((n) => !n.read_at).length);
    } catch {
      /* kept as it was */
    }
  }, []);

  useEffect(() => {
    void reload();
    const meNow = me;
    const off = events.subscribe((e) => {
      const a = classify(e, meNow);
      if (!a) return;
      if (e.kind === "notification") {
        const d = e.data as { id?: number; kind?: string; text?: string; data?: Record<string, unknown>; created_at?: string };
        if (typeof d.id === "number") {
          const item: ServerNotification = { id: d.id, kind: d.kind ?? "", text: d.text ?? "", data: d.data ?? {}, created_at: d.created_at ?? e.at, read_at: null };
          setServer((old) => (old.some((x) => x.id === item.id) ? old : [item, ...old].slice(0, 100)));
          setServerUnread((u) => u + 1);
        }
      } else if (a.local) {
        setLocal((old) => (old.some((x) => x.key === a.key) ? old : [{ key: a.key, kind: a.kind, conversation: a.conversation, at: e.at, read: false }, ...old].slice(0, 50)));
      }
      // Ring once per piece of news, however many events tell it.
      const now = Date.now();
      const seen = recent.current.get(a.key);
      recent.current.set(a.key, now);
      if (seen && now - seen < 15000) return;
      if (soundRef.current) tone();
      if (typeof Notification !== "undefined" && Notification.permission === "granted" && document.visibilityState !== "visible") {
        try {
          const n = new Notification(tRef.current("app.name"), { body: alertText(tRef.current, a.kind, a.conversation), tag: a.key });
          n.onclick = () => {
            window.focus();
            if (a.conversation) navigate("/inbox/" + a.conversation);
          };
        } catch {
          /* some browsers allow them only from a service worker */
        }
      }
    });
    const offReset = events.onReset(() => void reload());
    return () => {
      off();
      offReset();
    };
  }, [me, reload]);

  const unread = serverUnread + local.filter((l) => !l.read).length;

  useEffect(() => {
    const base = baseTitle();
    document.title = unread > 0 ? `(${unread}) ${base}` : base;
  }, [unread]);
  useEffect(() => () => void (document.title = baseTitle()), []);

  useEffect(() => {
    if (!open) return;
    const onDoc = (e: MouseEvent) => {
      if (wrap.current && !wrap.current.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && setOpen(false);
    document.addEventListener("mousedown", onDoc);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("mousedown", onDoc);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);

  const markAll = async () => {
    setLocal((old) => old.map((l) => ({ ...l, read: true })));
    try {
      const r = await api.post<{ unread: number }>("/api/v1/notifications/read", { all: true });
      setServerUnread(r?.unread ?? 0);
      setServer((old) => old.map((n) => (n.read_at ? n : { ...n, read_at: new Date().toISOString() })));
    } catch {
      void reload();
    }
  };

  const openItem = async (conversation: number | null, serverID?: number, localKey?: string) => {
    if (localKey) setLocal((old) => old.map((l) => (l.key === localKey ? { ...l, read: true } : l)));
    if (serverID !== undefined) {
      const was = server.find((n) => n.id === serverID);
      if (was && !was.read_at) {
        setServer((old) => old.map((n) => (n.id === serverID ? { ...n, read_at: new Date().toISOString() } : n)));
        setServerUnread((u) => Math.max(0, u - 1));
        api.post("/api/v1/notifications/read", { ids: [serverID] }).catch(() => undefined);
      }
    }
    setOpen(false);
    if (conversation) navigate("/inbox/" + conversation);
  };

  const enable = async () => {
    if (typeof Notification === "undefined") return;
    try {
      setPermission(await Notification.requestPermission());
    } catch {
      setPermission(Notification.permission);
    }
  };

  const toggleSound = () => {
    const next = !sound;
    setSound(next);
    localStorage.setItem(soundKey, next ? "on" : "off");
    if (next) tone();
  };

  type Entry = { id: string; text: string; at: string; read: boolean; conversation: number | null; serverID?: number; localKey?: string };
  const entries: Entry[] = [
    ...local.map((l) => ({ id: "l" + l.key, text: alertText(t, l.kind, l.conversation), at: l.at, read: l.read, conversation: l.conversation, localKey: l.key })),
    ...server.map((n) => {
      const c = num(n.data?.conversation);
      return { id: "s" + n.id, text: alertText(t, n.kind, c), at: n.created_at, read: !!n.read_at, conversation: c, serverID: n.id };
    }),
  ].sort((a, b) => Date.parse(b.at) - Date.parse(a.at));

  return (
    <div className="bell" ref={wrap}>
      <button type="button" className="link" aria-expanded={open} aria-haspopup="true" onClick={() => setOpen((o) => !o)}
        aria-label={unread > 0 ? t("notify.bellCount", { n: unread }) : t("notify.bell")} title={t("notify.bell")}>
        <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
          <path d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2z" />
        </svg>
        {unread > 0 && <span className="badge" data-testid="bell-count">{unread > 99 ? "99+" : unread}</span>}
      </button>
      {open && (
        <div className="bell-panel" role="dialog" aria-label={t("notify.bell")}>
          <header>
            <button type="button" className="link" onClick={() => void markAll()} disabled={unread === 0}>
              {t("notify.markAll")}
            </button>
            <label>
              <input type="checkbox" checked={sound} onChange={toggleSound} /> {t("notify.sound")}
            </label>
            {permission === "default" && (
              <button type="button" className="link" onClick={() => void enable()}>
                {t("notify.enable")}
              </button>
            )}
            {permission === "granted" && <span className="muted">{t("notify.enabled")}</span>}
            {permission === "denied" && <span className="muted">{t("notify.denied")}</span>}
          </header>
          {entries.length === 0 ? (
            <p className="empty">{t("notify.empty")}</p>
          ) : (
            <ul>
              {entries.map((en) => (
                <li key={en.id} className={en.read ? "" : "unread"}>
                  <a href={en.conversation ? "/inbox/" + en.conversation : "#"} onClick={(e) => {
                    e.preventDefault();
                    void openItem(en.conversation, en.serverID, en.localKey);
                  }}>
                    {en.text}
                    <time dateTime={en.at}>{formatTime(lang, en.at)}</time>
                  </a>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}
