// The supervisor's board of conversations in progress on their lines: filter by line, channel
// and operator, sort by duration, activity or creation; open one, assign or transfer it, or leave
// the operator a comment (an internal note, which notifies them). Live from the event stream.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api, query } from "../../lib/api";
import { formatDuration, formatTime, useI18n } from "../../lib/i18n";
import { linkHandler, navigate } from "../../lib/router";
import { useSession } from "../../lib/session";
import type { Key } from "../../strings";
import { ErrorNote } from "../admin/channels/form";
import { kindLabel } from "../admin/channels/kinds";
import type { ChannelInfo, Items, LineInfo, UserInfo } from "../admin/channels/types";
import { useLiveReload } from "./live";
import { SupervisorTabs } from "./Tabs";
import "./supervisor.css";

interface Ref {
  id: number;
  name: string;
}

export interface SupervisedConversation {
  number: number;
  title: string;
  status: string;
  line: Ref;
  channel: Ref;
  channel_kind: string;
  operator: Ref | null;
  contact: string;
  unread: number;
  overdue: boolean;
  created_at: string;
  last_activity_at: string;
  duration_seconds: number;
}

type Sort = "duration" | "activity" | "created";
type Status = "active" | "queued" | "paused" | "open";
type Action = { number: number; kind: "assign" | "transfer" | "comment" };

export function SupervisorConversations() {
  const { t } = useI18n();
  const me = useSession();
  const [line, setLine] = useState("");
  const [channel, setChannel] = useState("");
  const [operator, setOperator] = useState("");
  const [status, setStatus] = useState<Status>("active");
  const [sort, setSort] = useState<Sort>("duration");
  const [items, setItems] = useState<SupervisedConversation[] | null>(null);
  const [loadedAt, setLoadedAt] = useState(Date.now());
  const [now, setNow] = useState(Date.now());
  const [error, setError] = useState<unknown>(null);
  const [lines, setLines] = useState<LineInfo[]>([]);
  const [channels, setChannels] = useState<ChannelInfo[]>([]);
  const [users, setUsers] = useState<UserInfo[]>([]);
  const [action, setAction] = useState<Action | null>(null);
  const [done, setDone] = useState("");

  useEffect(() => {
    const mine = (l: LineInfo) => me.user.role === "admin" || me.access.supervisor_lines.includes(l.id);
    api.get<Items<LineInfo>>("/api/v1/lines").then((r) => setLines(r.items.filter(mine)), () => setLines([]));
    api.get<Items<ChannelInfo>>("/api/v1/channels").then((r) => setChannels(r.items), () => setChannels([]));
    api.get<Items<UserInfo>>("/api/v1/users").then((r) => setUsers(r.items.filter((u) => !u.disabled)), () => setUsers([]));
  }, [me]);

  const load = useCallback(async () => {
    try {
      const r = await api.get<{ items: SupervisedConversation[] }>(
        "/api/v1/supervisor/conversations" + query({ line, channel, operator, status: status === "open" ? "queued,active,paused" : status, sort }),
      );
      setItems(r.items);
      setLoadedAt(Date.now());
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, [line, channel, operator, status, sort]);

  useEffect(() => {
    void load();
  }, [load]);
  useLiveReload(load);
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), 10_000);
    return () => clearInterval(id);
  }, []);

  const channelOptions = channels.filter((c) => !line || c.line_id === Number(line)).filter((c) => lines.some((l) => l.id === c.line_id));
  const elapsed = Math.max(0, (now - loadedAt) / 1000);

  return (
    <section className="supervisor" aria-labelledby="sup-conv-title">
      <SupervisorTabs current="conversations" />
      <div className="board">
        <h1 id="sup-conv-title">{t("supervisor.conversations.title")}</h1>
        <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label={t("supervisor.filters")}>
          <label>
            <span>{t("supervisor.filter.line")}</span>
            <select value={line} onChange={(e) => { setLine(e.target.value); setChannel(""); }}>
              <option value="">{t("supervisor.filter.allLines")}</option>
              {lines.map((l) => <option key={l.id} value={l.id}>{l.name}</option>)}
            </select>
          </label>
          <label>
            <span>{t("supervisor.filter.channel")}</span>
            <select value={channel} onChange={(e) => setChannel(e.target.value)}>
              <option value="">{t("supervisor.filter.allChannels")}</option>
              {channelOptions.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
            </select>
          </label>
          <label>
            <span>{t("supervisor.filter.operator")}</span>
            <select value={operator} onChange={(e) => setOperator(e.target.value)}>
              <option value="">{t("supervisor.filter.allOperators")}</option>
              {users.map((u) => <option key={u.id} value={u.id}>{u.name}</option>)}
            </select>
          </label>
          <label>
            <span>{t("supervisor.filter.status")}</span>
            <select value={status} onChange={(e) => setStatus(e.target.value as Status)}>
              {(["active", "queued", "paused", "open"] as Status[]).map((s) => <option key={s} value={s}>{t(("supervisor.status." + s) as Key)}</option>)}
            </select>
          </label>
          <label>
            <span>{t("supervisor.sort")}</span>
            <select value={sort} onChange={(e) => setSort(e.target.value as Sort)}>
              <option value="duration">{t("supervisor.sort.duration")}</option>
              <option value="activity">{t("supervisor.sort.activity")}</option>
              <option value="created">{t("supervisor.sort.created")}</option>
            </select>
          </label>
        </form>
        <ErrorNote error={error} />
        {done && <p role="status" className="ok">{done}</p>}
        {items === null && !error && <p>{t("common.loading")}</p>}
        {items && items.length === 0 && <p className="empty">{t("supervisor.conversations.empty")}</p>}
        {items && items.length > 0 && (
          <table className="list" aria-describedby="sup-conv-title">
            <thead>
              <tr>
                <th scope="col">№</th>
                <th scope="col">{t("supervisor.col.contact")}</th>
                <th scope="col">{t("supervisor.col.line")}</th>
                <th scope="col">{t("supervisor.col.channel")}</th>
                <th scope="col">{t("supervisor.col.operator")}</th>
                <th scope="col">{t("supervisor.col.duration")}</th>
                <th scope="col">{t("supervisor.col.activity")}</th>
                <th scope="col">{t("supervisor.col.actions")}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((c) => (
                <Row key={c.number} c={c} showStatus={status === "open"} elapsed={elapsed} action={action?.number === c.number ? action : null} users={users}
                  onAction={(a) => { setAction(a); setDone(""); }}
                  onDone={(msg) => { setAction(null); setDone(msg); void load(); }} />
              ))}
            </tbody>
          </table>
        )}
      </div>
    </section>
  );

}

function Row({ c, showStatus, elapsed, action, users, onAction, onDone }: {
  c: SupervisedConversation; showStatus: boolean; elapsed: number; action: Action | null; users: UserInfo[];
  onAction: (a: Action | null) => void; onDone: (msg: string) => void;
}) {
  const { t, lang } = useI18n();
  const open = "/inbox/" + c.number;
  return (
    <>
      <tr className={c.overdue ? "overdue" : undefined}>
        <td><a href={open} onClick={linkHandler(open)}>{c.number}</a></td>
        <td>
          <div>{c.contact || t("common.none")}</div>
          {c.title && <small className="muted">{c.title}</small>}
          {c.unread > 0 && <span className="badge" aria-label={t("supervisor.unread", { n: c.unread })}>{c.unread}</span>}
          {c.overdue && <span className="tag danger">{t("supervisor.overdue")}</span>}
        </td>
        <td>{c.line.name}</td>
        <td>{c.channel.name} <small className="muted">{kindLabel(t, c.channel_kind)}</small></td>
        <td>
          {c.operator?.name ?? <span className="muted">{t("supervisor.unassigned")}</span>}
          {showStatus && <div><small className="muted">{t(("supervisor.status." + c.status) as Key)}</small></div>}
        </td>
        <td>{formatDuration(lang, c.duration_seconds + elapsed)}</td>
        <td>{formatTime(lang, c.last_activity_at)}</td>
        <td className="row-actions">
          <button type="button" onClick={() => navigate(open)} aria-label={t("supervisor.open") + " №" + c.number}>{t("supervisor.open")}</button>
          <button type="button" aria-expanded={action?.kind === "assign"} onClick={() => onAction(action?.kind === "assign" ? null : { number: c.number, kind: "assign" })} aria-label={t("supervisor.assign") + " №" + c.number}>{t("supervisor.assign")}</button>
          {c.operator && (
            <button type="button" aria-expanded={action?.kind === "transfer"} onClick={() => onAction(action?.kind === "transfer" ? null : { number: c.number, kind: "transfer" })} aria-label={t("supervisor.transfer") + " №" + c.number}>{t("supervisor.transfer")}</button>
          )}
          <button type="button" aria-expanded={action?.kind === "comment"} onClick={() => onAction(action?.kind === "comment" ? null : { number: c.number, kind: "comment" })} aria-label={t("supervisor.comment") + " №" + c.number}>{t("supervisor.comment")}</button>
        </td>
      </tr>
      {action && (
        <tr className="action-row">
          <td colSpan={8}>
            <ActionForm key={action.kind} c={c} kind={action.kind} users={users} onCancel={() => onAction(null)} onDone={onDone} />
          </td>
        </tr>
      )}
    </>
  );
}

function ActionForm({ c, kind, users, onCancel, onDone }: {
  c: SupervisedConversation; kind: Action["kind"]; users: UserInfo[]; onCancel: () => void; onDone: (msg: string) => void;
}) {
  const { t } = useI18n();
  const [assignee, setAssignee] = useState("");
  const [text, setText] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const candidates = users.filter((u) => u.id !== c.operator?.id);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      if (kind === "assign") await api.post(`/api/v1/conversations/${c.number}/assign`, { assignee_id: Number(assignee) });
      else if (kind === "transfer") await api.post(`/api/v1/conversations/${c.number}/transfer`, { assignee_id: Number(assignee), ...(text.trim() ? { comment: text.trim() } : {}) });
      else await api.post(`/api/v1/conversations/${c.number}/notes`, { text: text.trim() });
      const who = users.find((u) => u.id === Number(assignee))?.name ?? "";
      onDone(t(("supervisor.done." + kind) as Key, { n: c.number, who }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const id = `act-${c.number}`;
  return (
    <form className="action-form" onSubmit={(e) => void submit(e)} aria-label={t(("supervisor." + kind) as Key) + " №" + c.number}>
      {kind !== "comment" && (
        <label>
          <span>{t("supervisor.toOperator")}</span>
          <select value={assignee} onChange={(e) => setAssignee(e.target.value)} required autoFocus>
            <option value="">{t("supervisor.pickOperator")}</option>
            {candidates.map((u) => <option key={u.id} value={u.id}>{u.name}</option>)}
          </select>
        </label>
      )}
      {kind !== "assign" && (
        <label className="grow">
          <span>{kind === "transfer" ? t("supervisor.transferComment") : t("supervisor.commentText", { who: c.operator?.name ?? t("supervisor.unassigned") })}</span>
          <textarea id={id} value={text} onChange={(e) => setText(e.target.value)} rows={2} required={kind === "comment"} autoFocus={kind === "comment"} />
        </label>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>{t(("supervisor.submit." + kind) as Key)}</button>
        <button type="button" onClick={onCancel}>{t("common.cancel")}</button>
      </div>
      <ErrorNote error={error} />
    </form>
  );
}
