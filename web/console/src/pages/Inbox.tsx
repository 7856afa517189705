// The inbox: views and channel folders with live counters on the left, the conversation list
// next to them, and the open conversation on the right (/inbox/:number). The list pages by
// keyset (100 at a time, more when scrolled near the bottom) and renders only the rows in view,
// so ten thousand conversations scroll without a stall. Live events refresh the loaded page and
// the counters, coalesced so a storm is one refetch.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api, ApiError, query } from "../lib/api";
import { events } from "../lib/events";
import { useI18n } from "../lib/i18n";
import { match, navigate, type Location } from "../lib/router";
import { can, useSession } from "../lib/session";
import type { Conversation, Line, Me, User } from "../lib/types";
import type { Key } from "../strings";
import { ConversationView } from "./conversation/ConversationView";
import { coalesce } from "./inbox/live";
import { Row, type Thresholds } from "./inbox/Row";
import "./inbox/inbox.css";

export type View = "unassigned" | "mine" | "all" | "dialogs";
type Sort = "created" | "activity" | "due";

export interface ConsoleSettings {
  wait_warn_seconds: number;
  wait_alert_seconds: number;
  channel_kinds: string[];
  statuses: string[];
}

export interface Counts {
  views: Record<View, number>;
  channel_kinds: Record<string, number>;
  lines: Record<string, number>;
}

interface Outcome {
  number: number;
  status: number;
  code: string;
  message?: string;
}

const defaultSettings: ConsoleSettings = { wait_warn_seconds: 120, wait_alert_seconds: 300, channel_kinds: [], statuses: ["queued", "active", "paused"] };
const pageSize = 100;
const rowHeight = 58;
const overscan = 10;
const knownKinds = ["api", "email", "telegram", "vk", "viber", "facebook", "instagram", "whatsapp", "ok", "webchat", "phone"];

/** hasUnassignedQueue: the user may see an unassigned queue somewhere. */
export function hasUnassignedQueue(me: Me): boolean {
  return can(me, "unassigned_queue") || me.access.queue_lines.length > 0 || me.user.role !== "operator" || me.access.supervisor_lines.length > 0;
}

function isTextField(el: EventTarget | null): boolean {
  if (!(el instanceof HTMLElement)) return false;
  if (el.isContentEditable) return true;
  const tag = el.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    const type = (el as HTMLInputElement).type;
    return !["checkbox", "radio", "button", "submit", "reset"].includes(type);
  }
  return false;
}

export function Inbox({ loc }: { loc: Location }) {
  const { t, lang } = useI18n();
  const me = useSession();
  const views = useMemo<View[]>(
    () => (["unassigned", "mine", "all", "dialogs"] as View[]).filter((v) => v !== "unassigned" || hasUnassignedQueue(me)),
    [me],
  );
  const params = loc.params;
  const kind = params.get("kind") ?? "";
  const view: View = kind ? "all" : views.includes(params.get("view") as View) ? (params.get("view") as View) : "mine";
  const sort: Sort = (["created", "activity", "due"] as Sort[]).includes(params.get("sort") as Sort) ? (params.get("sort") as Sort) : "activity";
  const line = params.get("line") ?? "";
  const opened = match("/inbox/:number", loc.path);
  const current = opened ? Number(opened.number) : null;
  const search = params.toString();

  const [settings, setSettings] = useState<ConsoleSettings | null>(null);
  const [counts, setCounts] = useState<Counts | null>(null);
  const [lines, setLines] = useState<Line[]>([]);
  const [items, setItems] = useState<Conversation[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState("");
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [users, setUsers] = useState<User[] | null>(null);
  const [assignee, setAssignee] = useState("");
  const [busy, setBusy] = useState(false);
  const [results, setResults] = useState<Outcome[] | null>(null);
  const [scroll, setScroll] = useState({ top: 0, height: 0 });
  const scrollRef = useRef<HTMLDivElement>(null);
  const gen = useRef(0);
  const itemsRef = useRef<Conversation[]>([]);
  itemsRef.current = items ?? [];

  const mayAssign = me.user.role === "admin" || me.user.role === "supervisor";

  useEffect(() => {
    api.get<ConsoleSettings>("/api/v1/console-settings").then(setSettings, () => setSettings(defaultSettings));
    api.get<{ items: Line[] }>("/api/v1/lines").then((r) => setLines(r.items ?? []), () => setLines([]));
  }, []);
  useEffect(() => {
    if (!mayAssign) return;
    api.get<{ items: User[] }>("/api/v1/users").then((r) => setUsers(r.items ?? []), () => setUsers(null));
  }, [mayAssign]);

  const statuses = (settings ?? defaultSettings).statuses.join(",");
  const listQuery = useCallback(
    (limit: number, cur?: string | null) =>
      "/api/v1/conversations" + query({ view, sort, line, channel_kind: kind, status: view === "unassigned" ? "" : statuses, limit, cursor: cur ?? undefined }),
    [view, sort, line, kind, statuses],
  );

  const loadCounts = useCallback(async () => {
    try {
      setCounts(await api.get<Counts>("/api/v1/conversations/counts"));
    } catch {
      /* the counters wait for the next refresh */
    }
  }, []);

  // refresh reloads what is loaded (at least one page, at most 200 rows) in one request.
  const refresh = useCallback(
    async (reset: boolean) => {
      if (!settings) return;
      const g = ++gen.current;
      const limit = reset ? pageSize : Math.min(200, Math.max(pageSize, itemsRef.current.length));
      try {
        const r = await api.get<{ items: Conversation[]; next_cursor: string | null }>(listQuery(limit));
        if (g !== gen.current) return;
        const loaded = itemsRef.current;
        if (!reset && loaded.length > limit) {
          // Deeper than one request reaches: the top is fresh, the rest stays as loaded (and
          // the cursor where it was), so the user's scroll position holds.
          const fresh = new Set(r.items.map((c) => c.number));
          setItems([...r.items, ...loaded.slice(limit).filter((c) => !fresh.has(c.number))]);
        } else {
          setItems(r.items);
          setCursor(r.next_cursor);
        }
        setError("");
      } catch (e) {
        if (g !== gen.current) return;
        setError(e instanceof Error ? e.message : String(e));
        if (reset) setItems([]);
      }
    },
    [settings, listQuery],
  );

  const loadMore = useCallback(async () => {
    if (!cursor || loadingMore) return;
    setLoadingMore(true);
    const g = gen.current;
    try {
      const r = await api.get<{ items: Conversation[]; next_cursor: string | null }>(listQuery(pageSize, cursor));
      if (g !== gen.current) return;
      setItems((old) => {
        const seen = new Set((old ?? []).map((c) => c.number));
        return [...(old ?? []), ...r.items.filter((c) => !seen.has(c.number))];
      });
      setCursor(r.next_cursor);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setLoadingMore(false);
    }
  }, [cursor, loadingMore, listQuery]);

  // A new view, folder, line or sort starts from the top.
  useEffect(() => {
    setItems(null);
    setSelected(new Set());
    setResults(null);
    if (scrollRef.current) scrollRef.current.scrollTop = 0;
    void refresh(true);
  }, [refresh]);
  useEffect(() => {
    void loadCounts();
  }, [loadCounts]);

  // Live: any conversation or message event refreshes the list and counters, coalesced.
  const refreshRef = useRef(refresh);
  refreshRef.current = refresh;
  useEffect(() => {
    // The counters count every open conversation, so they refresh less eagerly than the page.
    const list = coalesce(() => void refreshRef.current(false), 300, 1500);
    const counters = coalesce(() => void loadCounts(), 1000, 5000);
    const both = () => {
      list();
      counters();
    };
    const off = events.subscribe((e) => {
      if (e.kind === "message" || e.kind.startsWith("conversation.")) both();
    });
    const offReset = events.onReset(both);
    return () => {
      list.cancel();
      counters.cancel();
      off();
      offReset();
    };
  }, [loadCounts]);

  const hrefOf = useCallback((n: number) => "/inbox/" + n + (search ? "?" + search : ""), [search]);
  const open = useCallback((n: number) => navigate(hrefOf(n)), [hrefOf]);

  // Keyboard: j / k (and Alt+ArrowDown / Alt+ArrowUp) open the next and previous conversation.
  const currentRef = useRef(current);
  currentRef.current = current;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || isTextField(e.target) || e.ctrlKey || e.metaKey) return;
      let step = 0;
      if (!e.altKey && (e.key === "j" || e.key === "k")) step = e.key === "j" ? 1 : -1;
      else if (e.altKey && (e.key === "ArrowDown" || e.key === "ArrowUp")) step = e.key === "ArrowDown" ? 1 : -1;
      if (!step) return;
      const list = itemsRef.current;
      if (list.length === 0) return;
      e.preventDefault();
      const i = list.findIndex((c) => c.number === currentRef.current);
      const next = i < 0 ? (step > 0 ? 0 : list.length - 1) : i + step;
      if (next < 0 || next >= list.length) return;
      open(list[next].number);
      const el = scrollRef.current;
      if (el && el.clientHeight > 0) {
        const top = next * rowHeight;
        if (top < el.scrollTop) el.scrollTop = top;
        else if (top + rowHeight > el.scrollTop + el.clientHeight - rowHeight) el.scrollTop = top - el.clientHeight + 2 * rowHeight;
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [open]);

  const onScroll = () => {
    const el = scrollRef.current;
    if (!el) return;
    setScroll({ top: el.scrollTop, height: el.clientHeight });
    if (cursor && el.scrollTop + el.clientHeight > el.scrollHeight - 8 * rowHeight) void loadMore();
  };
  useEffect(() => {
    const el = scrollRef.current;
    if (el) setScroll({ top: el.scrollTop, height: el.clientHeight });
  }, [items]);

  const toggle = useCallback((n: number) => {
    setSelected((old) => {
      const s = new Set(old);
      if (s.has(n)) s.delete(n);
      else s.add(n);
      return s;
    });
  }, []);

  const list = items ?? [];
  const allChecked = list.length > 0 && list.every((c) => selected.has(c.number));
  const toggleAll = () => setSelected(allChecked ? new Set() : new Set(list.slice(0, 100).map((c) => c.number)));

  const runBulk = async (action: "assign" | "close" | "convert") => {
    const numbers = [...selected].slice(0, 100);
    if (numbers.length === 0) return;
    setBusy(true);
    setResults(null);
    try {
      let r: { results: Outcome[] };
      if (action === "convert") r = await api.post("/api/v1/conversations/convert-to-leads", { numbers });
      else if (action === "assign") r = await api.post("/api/v1/conversations/bulk", { action, numbers, assignee_id: Number(assignee) });
      else r = await api.post("/api/v1/conversations/bulk", { action, numbers, confirm_unread: true });
      setResults(r.results);
      setSelected(new Set(r.results.filter((o) => o.code !== "ok").map((o) => o.number)));
      void refresh(false);
      void loadCounts();
    } catch (e) {
      setResults([{ number: 0, status: e instanceof ApiError ? e.status : 0, code: e instanceof ApiError ? e.code : "error", message: e instanceof Error ? e.message : String(e) }]);
    } finally {
      setBusy(false);
    }
  };

  // The rows in view (all of them in a test DOM without layout).
  const viewport = scroll.height || 40 * rowHeight;
  const first = Math.max(0, Math.floor(scroll.top / rowHeight) - overscan);
  const last = Math.min(list.length, Math.ceil((scroll.top + viewport) / rowHeight) + overscan);
  const shown = list.slice(first, last);

  const th: Thresholds = { warn: (settings ?? defaultSettings).wait_warn_seconds, alert: (settings ?? defaultSettings).wait_alert_seconds };
  const folderKinds = useMemo(() => {
    const chosen = settings?.channel_kinds ?? [];
    const ks = Object.keys(counts?.channel_kinds ?? {}).filter((k) => chosen.length === 0 || chosen.includes(k));
    if (kind && !ks.includes(kind)) ks.push(kind);
    return ks.sort();
  }, [counts, settings, kind]);

  const linkTo = (p: Record<string, string>) => {
    const q = new URLSearchParams();
    const merged = { view, sort, line, kind, ...p };
    for (const [k, v] of Object.entries(merged)) if (v) q.set(k, v);
    if (merged.kind) q.delete("view");
    return "/inbox?" + q.toString();
  };
  const go = (href: string) => (e: React.MouseEvent) => {
    if (e.ctrlKey || e.metaKey || e.button !== 0) return;
    e.preventDefault();
    navigate(href);
  };

  return (
    <section className={current ? "inbox2 open" : "inbox2"}>
      <nav className="inbox-views" aria-label={t("inbox.views")}>
        <ul>
          {views.map((v) => {
            const href = linkTo({ view: v, kind: "" });
            return (
              <li key={v}>
                <a href={href} onClick={go(href)} aria-current={!kind && v === view ? "page" : undefined} data-view={v}>
                  <span>{t(("inbox.view." + v) as Key)}</span>
                  <span className="count" data-count={v}>{counts ? counts.views[v] : ""}</span>
                </a>
              </li>
            );
          })}
        </ul>
        {folderKinds.length > 0 && <h3>{t("inbox.folders")}</h3>}
        <ul>
          {folderKinds.map((k) => {
            const href = linkTo({ kind: k, view: "" });
            return (
              <li key={k}>
                <a href={href} onClick={go(href)} aria-current={kind === k ? "page" : undefined} data-kind={k}>
                  <span>{knownKinds.includes(k) ? t(("inbox.kind." + k) as Key) : t("inbox.kind.other")}</span>
                  <span className="count">{counts?.channel_kinds[k] ?? 0}</span>
                </a>
              </li>
            );
          })}
        </ul>
      </nav>
      <div className="inbox-listpane">
        <div className="inbox-tools">
          <label>
            <span>{t("inbox.line")}</span>
            <select value={line} onChange={(e) => navigate(linkTo({ line: e.target.value }))}>
              <option value="">{t("inbox.line.all")}</option>
              {lines.map((l) => (
                <option key={l.id} value={String(l.id)}>
                  {l.name}
                  {counts?.lines[String(l.id)] !== undefined ? ` (${counts.lines[String(l.id)]})` : ""}
                </option>
              ))}
            </select>
          </label>
          <label>
            <span>{t("inbox.sort")}</span>
            <select value={sort} onChange={(e) => navigate(linkTo({ sort: e.target.value }))}>
              <option value="activity">{t("inbox.sort.activity")}</option>
              <option value="created">{t("inbox.sort.created")}</option>
              <option value="due">{t("inbox.sort.due")}</option>
            </select>
          </label>
        </div>
        {selected.size > 0 && (
          <div className="inbox-bulk" role="toolbar" aria-label={t("inbox.selected", { n: selected.size })}>
            <span>{t("inbox.selected", { n: selected.size })}</span>
            {mayAssign && users && (
              <>
                <label>
                  <span className="visually-hidden">{t("inbox.bulk.assignTo")}</span>
                  <select value={assignee} onChange={(e) => setAssignee(e.target.value)} aria-label={t("inbox.bulk.assignTo")}>
                    <option value="">{t("inbox.bulk.pick")}</option>
                    {users.map((u) => (
                      <option key={u.id} value={String(u.id)}>
                        {u.name || u.email}
                      </option>
                    ))}
                  </select>
                </label>
                <button type="button" disabled={busy || !assignee} onClick={() => void runBulk("assign")}>
                  {t("inbox.bulk.assign")}
                </button>
              </>
            )}
            <button type="button" disabled={busy} onClick={() => void runBulk("close")}>
              {t("inbox.bulk.close")}
            </button>
            <button type="button" disabled={busy} onClick={() => void runBulk("convert")}>
              {t("inbox.bulk.convert")}
            </button>
            <button type="button" className="link" onClick={() => setSelected(new Set())}>
              {t("inbox.bulk.clear")}
            </button>
            {busy && <span role="status">{t("inbox.bulk.working")}</span>}
          </div>
        )}
        {results && (
          <div className="inbox-results" role="status" aria-label={t("inbox.bulk.results")}>
            <ul>
              {results.map((o) => (
                <li key={o.number} className={o.code === "ok" ? "ok" : "failed"} title={o.message}>
                  {o.number ? "№" + o.number + ": " : ""}
                  {o.code === "ok" ? t("inbox.bulk.ok") : t("inbox.bulk.failed", { code: o.code })}
                  {o.code !== "ok" && o.message && lang === "en" ? " — " + o.message : ""}
                </li>
              ))}
            </ul>
            <button type="button" className="link" onClick={() => setResults(null)}>
              {t("common.close")}
            </button>
          </div>
        )}
        {error && <p className="error" role="alert">{error}</p>}
        <div className="inbox-scroll" ref={scrollRef} onScroll={onScroll}>
          {items === null ? (
            <p className="empty">{t("inbox.loading")}</p>
          ) : list.length === 0 ? (
            <p className="empty">{t("inbox.empty")}</p>
          ) : (
            <table className="inbox-table" aria-label={t("inbox.list")} aria-rowcount={list.length}>
              <thead>
                <tr>
                  <th className="pick">
                    <input type="checkbox" checked={allChecked} onChange={toggleAll} aria-label={t("inbox.selectPage")} />
                  </th>
                  <th>
                    {t("inbox.col.contact")} · {t("inbox.col.channel")} · {t("inbox.col.last")}
                  </th>
                  <th>{t("inbox.col.waiting")}</th>
                  <th>{t("inbox.col.due")}</th>
                  <th>{t("inbox.col.assignee")}</th>
                  <th>{t("inbox.col.status")}</th>
                </tr>
              </thead>
              <tbody>
                {first > 0 && <tr className="spacer" style={{ height: first * rowHeight }} aria-hidden="true" />}
                {shown.map((c) => (
                  <Row key={c.number} c={c} href={hrefOf(c.number)} active={c.number === current} checked={selected.has(c.number)} th={th} onToggle={toggle} onOpen={open} />
                ))}
                {last < list.length && <tr className="spacer" style={{ height: (list.length - last) * rowHeight }} aria-hidden="true" />}
              </tbody>
            </table>
          )}
          {cursor && items && (
            <button type="button" className="link more" disabled={loadingMore} onClick={() => void loadMore()}>
              {loadingMore ? t("inbox.loading") : t("inbox.loadMore")}
            </button>
          )}
        </div>
      </div>
      <div className="inbox-conversation">
        {current ? <ConversationView key={current} number={current} /> : <p className="empty">{t("inbox.pickOne")}</p>}
      </div>
    </section>
  );
}
