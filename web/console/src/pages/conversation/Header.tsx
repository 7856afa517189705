// The conversation's header: who, where, in what state, and the actions the signed-in user may
// take in that state (the rules of workflows/rules.go).
import { useEffect, useState } from "react";
import { api, request } from "../../lib/api";
import { useI18n, useT } from "../../lib/i18n";
import { useSession } from "../../lib/session";
import type { Conversation, UserRef } from "../../lib/types";
import type { Key } from "../../strings";
import { Modal } from "./Modal";
import { errorText, isOwner, privileged } from "./util";

export type Action = "take" | "return" | "pause" | "resume";

export function Header({
  conversation: c,
  onAction,
  onClose,
  onChanged,
}: {
  conversation: Conversation;
  onAction: (a: Action) => Promise<void>;
  onClose: () => void;
  onChanged: (c: Conversation) => void;
}) {
  const t = useT();
  const { lang } = useI18n();
  const me = useSession();
  const [picker, setPicker] = useState<"transfer" | "assign" | null>(null);
  const [busy, setBusy] = useState(false);
  const owner = isOwner(me, c);
  const sup = privileged(me, c);
  const open = c.status !== "closed";
  const mine = c.assignee?.id === me.user.id;

  const run = async (a: Action) => {
    setBusy(true);
    try {
      await onAction(a);
    } finally {
      setBusy(false);
    }
  };

  return (
    <header className="conv-header">
      <div className="conv-title">
        <h1>
          <span className="num">№{c.number}</span> {c.title || c.contact.name || c.contact.email || c.contact.phone || t("conv.untitled")}
        </h1>
        <dl className="conv-facts">
          <div>
            <dt>{t("conv.status")}</dt>
            <dd className={"status status-" + c.status}>{t(("conv.status." + c.status) as Key)}</dd>
          </div>
          <div>
            <dt>{t("conv.channel")}</dt>
            <dd>
              {c.channel.name} <span className="muted">({c.channel.kind})</span>
            </dd>
          </div>
          <div>
            <dt>{t("conv.assignee")}</dt>
            <dd>{c.assignee?.name ?? t("conv.nobody")}</dd>
          </div>
          {c.participants.length > 0 && (
            <div>
              <dt>{t("conv.participants")}</dt>
              <dd>{c.participants.map((p) => p.name).join(", ")}</dd>
            </div>
          )}
          {c.kind === "dialog" && (
            <div>
              <dt>{t("conv.kind")}</dt>
              <dd>{t("conv.kind.dialog")}</dd>
            </div>
          )}
        </dl>
        <Labels conversation={c} onChanged={onChanged} />
        <Macros conversation={c} onChanged={onChanged} />
        <ExportLinks number={c.number} lang={lang} />
      </div>
      {open && (
        <div className="conv-actions" role="toolbar" aria-label={t("conv.actions")}>
          {(c.status === "queued" || !c.assignee) && (
            <button type="button" className="primary" disabled={busy} onClick={() => void run("take")}>
              {t("conv.action.take")}
            </button>
          )}
          {c.assignee && !mine && !owner && (
            <span className="muted">{t("conv.handledBy", { who: c.assignee.name })}</span>
          )}
          {c.status === "active" && owner && c.assignee && (
            <button type="button" disabled={busy} onClick={() => void run("pause")}>
              {t("conv.action.pause")}
            </button>
          )}
          {c.status === "paused" && owner && (
            <button type="button" className="primary" disabled={busy} onClick={() => void run("resume")}>
              {t("conv.action.resume")}
            </button>
          )}
          {c.assignee && owner && (
            <button type="button" disabled={busy} onClick={() => setPicker("transfer")}>
              {t("conv.action.transfer")}
            </button>
          )}
          {sup && (
            <button type="button" disabled={busy} onClick={() => setPicker("assign")}>
              {t("conv.action.assign")}
            </button>
          )}
          {c.status !== "queued" && owner && (
            <button type="button" disabled={busy} onClick={() => void run("return")}>
              {t("conv.action.return")}
            </button>
          )}
          {(owner || !c.assignee) && (
            <button type="button" className="danger" disabled={busy} onClick={onClose} aria-keyshortcuts="Alt+C">
              {t("conv.action.close")}
            </button>
          )}
        </div>
      )}
      {picker && (
        <OperatorPicker
          conversation={c}
          kind={picker}
          onCancel={() => setPicker(null)}
          onDone={(r) => {
            setPicker(null);
            onChanged(r);
          }}
        />
      )}
    </header>
  );
}

/** ExportLinks download the conversation's whole history or open its printable transcript. */
function ExportLinks({ number, lang }: { number: number; lang: string }) {
  const t = useT();
  const base = `/api/v1/conversations/${number}`;
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  return (
    <p className="conv-export">
      <span className="muted">{t("conv.export")}</span>{" "}
      <a href={`${base}/export?format=json`} download={`conversation-${number}.json`}>
        JSON
      </a>{" "}
      ·{" "}
      <a href={`${base}/export?format=csv`} download={`conversation-${number}.csv`}>
        CSV
      </a>{" "}
      ·{" "}
      <a href={`${base}/transcript?lang=${lang}&tz=${encodeURIComponent(tz)}`} target="_blank" rel="noopener">
        {t("conv.transcript")}
      </a>
    </p>
  );
}

interface UserInfo extends UserRef {
  role: string;
  presence: string;
  disabled: boolean;
  active?: number;
}

/** OperatorPicker transfers (with a comment) or assigns the conversation to an operator. */
function OperatorPicker({
  conversation: c,
  kind,
  onCancel,
  onDone,
}: {
  conversation: Conversation;
  kind: "transfer" | "assign";
  onCancel: () => void;
  onDone: (c: Conversation) => void;
}) {
  const t = useT();
  const me = useSession();
  // The line's operators, by name, with their presence and load (anyone who sees the
  // conversation may list them); the id field is only the fallback when the list cannot load.
  const [users, setUsers] = useState<UserInfo[] | null>(null);
  const [noList, setNoList] = useState(false);
  const [who, setWho] = useState("");
  const [comment, setComment] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api
      .get<{ items: (UserRef & { presence: string; active: number })[] }>(`/api/v1/conversations/${c.number}/operators`)
      .then((r) => setUsers(r.items.map((u) => ({ ...u, role: "operator", disabled: false })).filter((u) => u.id !== c.assignee?.id)))
      .catch(() => setNoList(true));
  }, [c.assignee?.id, c.number]);

  const submit = async () => {
    const id = Number(who);
    if (!Number.isInteger(id) || id <= 0) {
      setError(t("conv.pick.required"));
      return;
    }
    setBusy(true);
    setError("");
    try {
      const body: Record<string, unknown> = { assignee_id: id };
      if (kind === "transfer" && comment.trim()) body.comment = comment.trim();
      onDone(await api.post<Conversation>(`/api/v1/conversations/${c.number}/${kind}`, body));
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title={t(kind === "transfer" ? "conv.pick.transferTitle" : "conv.pick.assignTitle", { number: c.number })} onClose={onCancel}>
      <form
        className="conv-form"
        onSubmit={(ev) => {
          ev.preventDefault();
          void submit();
        }}
      >
        <label htmlFor="pick-who">{t("conv.pick.operator")}</label>
        {noList ? (
          <input id="pick-who" inputMode="numeric" value={who} onChange={(ev) => setWho(ev.target.value)} placeholder={t("conv.pick.idHint")} />
        ) : (
          <select id="pick-who" value={who} onChange={(ev) => setWho(ev.target.value)}>
            <option value="">{users === null ? t("common.loading") : t("conv.pick.choose")}</option>
            {users?.map((u) => (
              <option key={u.id} value={u.id}>
                {u.name} · {t(("presence." + u.presence) as Key)}
                {u.active !== undefined ? " · " + t("conv.pick.active", { n: u.active }) : ""}
                {u.id === me.user.id ? " · " + t("conv.pick.me") : ""}
              </option>
            ))}
          </select>
        )}
        {kind === "transfer" && (
          <>
            <label htmlFor="pick-comment">{t("conv.pick.comment")}</label>
            <textarea id="pick-comment" rows={3} value={comment} onChange={(ev) => setComment(ev.target.value)} />
          </>
        )}
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <div className="conv-form-actions">
          <button type="button" onClick={onCancel}>
            {t("common.cancel")}
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {t(kind === "transfer" ? "conv.action.transfer" : "conv.action.assign")}
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** Labels are the conversation's priority and tags (X01), changed in place. */
function Labels({ conversation: c, onChanged }: { conversation: Conversation; onChanged: (c: Conversation) => void }) {
  const t = useT();
  const [adding, setAdding] = useState("");
  const [attribute, setAttribute] = useState("");
  const [error, setError] = useState("");
  const tags = c.tags ?? [];
  const save = async (body: { tags?: string[]; priority?: string; attributes?: Record<string, string> }) => {
    try {
      onChanged(await api.patch<Conversation>(`/api/v1/conversations/${c.number}`, body));
      setError("");
    } catch (err) {
      setError(errorText(t, err));
    }
  };
  return (
    <div className="conv-labels">
      <label>
        <span>{t("conv.priority")}</span>
        <select value={c.priority ?? "normal"} onChange={(e) => void save({ priority: e.target.value })} data-priority={c.priority ?? "normal"}>
          {(["low", "normal", "high", "urgent"] as const).map((p) => (
            <option key={p} value={p}>{t(("conv.priority." + p) as "conv.priority.low")}</option>
          ))}
        </select>
      </label>
      <ul className="conv-tags" aria-label={t("conv.tags")}>
        {tags.map((tag) => (
          <li key={tag}>
            {tag}{" "}
            <button type="button" className="link" aria-label={t("conv.tags.remove", { tag })} onClick={() => void save({ tags: tags.filter((x) => x !== tag) })}>×</button>
          </li>
        ))}
      </ul>
      <form onSubmit={(e) => { e.preventDefault(); const v = adding.trim(); if (v) void save({ tags: [...tags, v] }).then(() => setAdding("")); }}>
        <input value={adding} maxLength={40} placeholder={t("conv.tags.add")} aria-label={t("conv.tags.add")} onChange={(e) => setAdding(e.target.value)} />
      </form>
      <ul className="conv-tags conv-attrs" aria-label={t("conv.attributes")}>
        {Object.entries(c.attributes ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => (
          <li key={k}>
            {k}: {v}{" "}
            <button type="button" className="link" aria-label={t("conv.attributes.remove", { name: k })} onClick={() => void save({ attributes: { [k]: "" } })}>×</button>
          </li>
        ))}
      </ul>
      <form onSubmit={(e) => {
        e.preventDefault();
        const m = /^\s*([^=]+?)\s*=\s*(.+?)\s*$/.exec(attribute);
        if (!m) return setError(t("conv.attributes.format"));
        void save({ attributes: { [m[1].toLowerCase()]: m[2] } }).then(() => setAttribute(""));
      }}>
        <input value={attribute} placeholder={t("conv.attributes.add")} aria-label={t("conv.attributes.add")} onChange={(e) => setAttribute(e.target.value)} />
      </form>
      {error && <span className="error" role="alert">{error}</span>}
    </div>
  );
}

/** Macros apply several actions with one click (X15); the server runs them in order. */
function Macros({ conversation: c, onChanged }: { conversation: Conversation; onChanged: (c: Conversation) => void }) {
  const t = useT();
  const [macros, setMacros] = useState<{ id: number; name: string }[]>([]);
  const [chosen, setChosen] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  useEffect(() => {
    api.get<{ items: { id: number; name: string }[] }>("/api/v1/macros").then((r) => setMacros(r?.items ?? []), () => setMacros([]));
  }, []);
  if (macros.length === 0) return null;
  const apply = async () => {
    if (!chosen) return;
    setBusy(true);
    try {
      const key = `macro-${chosen}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
      onChanged(await request<Conversation>("POST", `/api/v1/conversations/${c.number}/macros/${chosen}/apply`, undefined, { headers: { "Idempotency-Key": key } }));
      setError("");
      setChosen("");
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="conv-macros">
      <label>
        <span>{t("conv.macro")}</span>
        <select value={chosen} onChange={(e) => setChosen(e.target.value)}>
          <option value="">—</option>
          {macros.map((m) => <option key={m.id} value={String(m.id)}>{m.name}</option>)}
        </select>
      </label>
      <button type="button" disabled={!chosen || busy} onClick={() => void apply()}>{t("conv.macro.apply")}</button>
      {error && <span className="error" role="alert">{error}</span>}
    </div>
  );
}
