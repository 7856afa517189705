// The right column: who the client is, their earlier conversations (with a button to bring that
// operator in), the conversations and dialogs of this chat (and opening a new dialog), and the
// conversation's timeline.
import { useCallback, useEffect, useState } from "react";
import { api, query } from "../../lib/api";
import { events } from "../../lib/events";
import { formatTime, useI18n, useT } from "../../lib/i18n";
import { linkHandler, navigate } from "../../lib/router";
import { useSession } from "../../lib/session";
import type { Conversation, TimelineEntry, UserRef } from "../../lib/types";
import type { Key } from "../../strings";
import { ClientCalls } from "../calls/ClientCalls";
import { BlockClient, MergeContact } from "./MergeContact";
import { Modal } from "./Modal";
import type { DialogSettings } from "./WrapUp";
import { conversationPath, displayName, errorText, isOwner } from "./util";

interface ContactProfile {
  id: number;
  profile_url: string;
  timezone: string;
  fields: Record<string, string>;
  channels: string[];
  blocked: "" | "spam" | "blocked";
}

/** safeLink is an http(s) URL to link to, or null (a javascript: or data: URL never becomes a link). */
export function safeLink(url: string): string | null {
  try {
    const u = new URL(url);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}

/** localTime is the time now in the client's time zone, with the zone's offset from the operator's. */
export function localTime(lang: string, timezone: string, now: Date): string | null {
  try {
    return new Intl.DateTimeFormat(lang === "ru" ? "ru-RU" : "en-GB", { timeZone: timezone, hour: "2-digit", minute: "2-digit", weekday: "short" }).format(now);
  } catch {
    return null;
  }
}

const timelineKinds = [
  "opened",
  "taken",
  "routed",
  "assigned",
  "transferred",
  "returned",
  "paused",
  "resumed",
  "replied",
  "note_added",
  "edited",
  "closed",
  "auto_closed",
  "csat_answered",
  "regulation_changed",
  "line_changed",
  "sla_warning",
  "sla_breached",
];

export function ClientPanel({ conversation: c, onChanged }: { conversation: Conversation; onChanged: (c: Conversation) => void }) {
  const { t, lang } = useI18n();
  const me = useSession();
  const [earlier, setEarlier] = useState<Conversation[] | null>(null);
  const [inChat, setInChat] = useState<Conversation[] | null>(null);
  const [history, setHistory] = useState<TimelineEntry[] | null>(null);
  const [error, setError] = useState("");
  const [opening, setOpening] = useState(false);
  const [profile, setProfile] = useState<ContactProfile | null>(null);
  const [now, setNow] = useState(() => new Date());
  // merges counts the merges made here: the profile and the earlier conversations read again.
  const [merges, setMerges] = useState(0);
  const [field, setField] = useState("");

  useEffect(() => {
    setProfile(null);
    api.get<Partial<ContactProfile>>(`/api/v1/contacts/${c.contact.id}`).then(
      (p) => setProfile({ id: c.contact.id, profile_url: p?.profile_url ?? "", timezone: p?.timezone ?? "", fields: p?.fields ?? {}, channels: p?.channels ?? [], blocked: p?.blocked ?? "" }),
      () => setProfile(null),
    );
  }, [c.contact.id, c.contact.name, c.contact.email, merges]);
  useEffect(() => {
    if (!profile?.timezone) return;
    const timer = setInterval(() => setNow(new Date()), 30_000);
    return () => clearInterval(timer);
  }, [profile?.timezone]);

  const load = useCallback(async () => {
    const chat = api.get<{ items: Conversation[] }>("/api/v1/conversations" + query({ chat: c.chat_id, limit: 100 }));
    const contact = api
      .get<{ items: Conversation[] }>(`/api/v1/contacts/${c.contact.id}/conversations` + query({ limit: 100 }))
      .catch(() => chat);
    const hist = api.get<{ items: TimelineEntry[] }>(`/api/v1/conversations/${c.number}/history`);
    try {
      const [a, b, h] = await Promise.all([chat, contact, hist]);
      setInChat(a.items.filter((x) => x.number !== c.number));
      setEarlier(b.items.filter((x) => x.number !== c.number && x.created_at <= c.created_at));
      setHistory(h.items);
    } catch (err) {
      setError(errorText(t, err));
    }
  }, [c.chat_id, c.contact.id, c.number, c.created_at, t]);

  useEffect(() => {
    void load();
  }, [load, c.status, c.assignee?.id, c.participants.length, merges]);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = events.subscribe((e) => {
      if (e.conversation === c.number && e.kind.startsWith("conversation.")) {
        clearTimeout(timer);
        timer = setTimeout(() => void load(), 200);
      }
    });
    return () => {
      clearTimeout(timer);
      off();
    };
  }, [c.number, load]);

  const canChange = c.status !== "closed" && isOwner(me, c);
  const bringIn = async (u: UserRef) => {
    setError("");
    try {
      const ids = [...c.participants.map((p) => p.id), u.id];
      onChanged(await api.patch<Conversation>(`/api/v1/conversations/${c.number}`, { participants: ids }));
    } catch (err) {
      setError(errorText(t, err));
    }
  };
  const profileLink = profile ? safeLink(profile.profile_url) : null;
  const clientTime = profile?.timezone ? localTime(lang, profile.timezone, now) : null;
  const present = (u: UserRef) => c.assignee?.id === u.id || c.participants.some((p) => p.id === u.id);
  const requests = earlier?.filter((x) => x.kind === "request").length ?? 0;
  // The timeline names users by id ("to"); the people this view knows give their names.
  const names = new Map<number, string>();
  for (const u of [c.assignee, ...c.participants, ...(history ?? []).map((h) => h.actor)]) if (u) names.set(u.id, u.name);

  return (
    <aside className="conv-panel" aria-label={t("conv.panel")}>
      <section>
        <h2>{t("conv.client")}</h2>
        <dl className="conv-contact">
          <dt>{t("conv.client.name")}</dt>
          <dd>{c.contact.name || t("common.none")}</dd>
          <dt>{t("conv.client.email")}</dt>
          <dd>{c.contact.email ? <a href={"mailto:" + c.contact.email}>{c.contact.email}</a> : t("common.none")}</dd>
          <dt>{t("conv.client.phone")}</dt>
          <dd>{c.contact.phone ? <a href={"tel:" + c.contact.phone}>{c.contact.phone}</a> : t("common.none")}</dd>
          <dt>{t("conv.channel")}</dt>
          <dd>
            {c.channel.name} ({c.channel.kind})
          </dd>
          {profileLink && (
            <>
              <dt>{t("conv.client.profile")}</dt>
              <dd>
                <a href={profileLink} target="_blank" rel="noreferrer noopener">
                  {t("conv.client.openProfile")}
                </a>
              </dd>
            </>
          )}
          {clientTime && (
            <>
              <dt>{t("conv.client.localTime")}</dt>
              <dd title={profile?.timezone}>{clientTime}</dd>
            </>
          )}
          <dt>{t("conv.client.number")}</dt>
          <dd>№{c.number}</dd>
          <dt>{t("conv.client.earlierCount")}</dt>
          <dd>{earlier === null ? "…" : requests}</dd>
          {c.csat !== null && (
            <>
              <dt>{t("conv.client.csat")}</dt>
              <dd>{t(("conv.csat." + c.csat) as Key)}</dd>
            </>
          )}
          {c.client_rating !== null && (
            <>
              <dt>{t("conv.client.rating")}</dt>
              <dd>{"★".repeat(c.client_rating)}</dd>
            </>
          )}
        </dl>
      </section>
      {profile && <BlockClient contactID={c.contact.id} blocked={profile.blocked} canUnblock={me.user.role !== "operator"} onChanged={() => setMerges((m) => m + 1)} />}
      {(me.user.role === "admin" || me.user.role === "supervisor") && (
        <MergeContact contactID={c.contact.id} onMerged={() => {
          setMerges((m) => m + 1);
          void api.get<Conversation>(`/api/v1/conversations/${c.number}`).then(onChanged, () => undefined);
        }} />
      )}
      <ClientCalls contactID={c.contact.id} conversation={c.number} />
      {profile && (
        <section>
          {Object.keys(profile.fields).length > 0 && <h2>{t("conv.client.fields")}</h2>}
          <dl className="conv-contact conv-fields">
            {Object.entries(profile.fields)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, v]) => (
                <div key={k}>
                  <dt>{k}</dt>
                  <dd>{v || t("common.none")}</dd>
                </div>
              ))}
          </dl>
          <form className="conv-field-add" onSubmit={(e) => {
            e.preventDefault();
            const m = /^\s*([^=]+?)\s*=\s*(.*?)\s*$/.exec(field);
            if (!m) return setError(t("conv.attributes.format"));
            api.patch(`/api/v1/contacts/${c.contact.id}`, { fields: { [m[1]]: m[2] } }).then(() => {
              setField("");
              setMerges((x) => x + 1);
            }, (err) => setError(errorText(t, err)));
          }}>
            <input value={field} placeholder={t("conv.client.addField")} aria-label={t("conv.client.addField")} onChange={(e) => setField(e.target.value)} />
          </form>
        </section>
      )}

      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}

      <section>
        <h2>{t("conv.earlier")}</h2>
        {earlier === null ? (
          <p className="muted">{t("common.loading")}</p>
        ) : earlier.length === 0 ? (
          <p className="muted">{t("conv.earlier.none")}</p>
        ) : (
          <ul className="conv-list">
            {earlier.map((x) => (
              <li key={x.number}>
                <a href={conversationPath(x.number)} onClick={linkHandler(conversationPath(x.number))}>
                  №{x.number}
                </a>{" "}
                <span className="muted">
                  {formatTime(lang, x.created_at, true)} · {t(("conv.status." + x.status) as Key)}
                </span>
                <div>
                  {x.title && <span>{x.title} · </span>}
                  {x.assignee ? x.assignee.name : t("conv.nobody")}
                  {x.assignee && canChange && !present(x.assignee) && (
                    <button type="button" className="link" onClick={() => void bringIn(x.assignee!)}>
                      {t("conv.earlier.bringIn")}
                    </button>
                  )}
                </div>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section>
        <h2>{t("conv.dialogs")}</h2>
        {inChat && inChat.length === 0 && <p className="muted">{t("conv.dialogs.none")}</p>}
        {inChat && inChat.length > 0 && (
          <ul className="conv-list">
            {inChat.map((x) => (
              <li key={x.number}>
                <a href={conversationPath(x.number)} onClick={linkHandler(conversationPath(x.number))}>
                  №{x.number}
                </a>{" "}
                {t(x.kind === "dialog" ? "conv.kind.dialog" : "conv.kind.request")} · {t(("conv.status." + x.status) as Key)}
                {x.title && <div>{x.title}</div>}
              </li>
            ))}
          </ul>
        )}
        <button type="button" onClick={() => setOpening(true)}>
          {t("conv.dialogs.open")}
        </button>
      </section>

      <section>
        <h2>{t("conv.history")}</h2>
        {history === null ? (
          <p className="muted">{t("common.loading")}</p>
        ) : (
          <ol className="conv-timeline">
            {history.map((h) => (
              <li key={h.seq}>
                <time dateTime={h.at}>{formatTime(lang, h.at, true)}</time>{" "}
                <strong>{timelineKinds.includes(h.kind) ? t(("conv.event." + h.kind) as Key) : h.kind}</strong> · {displayName(t, h.actor)}
                {typeof h.data?.to === "number" && names.has(h.data.to) && <> → {names.get(h.data.to)}</>}
                {typeof h.data?.comment === "string" && h.data.comment && <div className="muted">«{h.data.comment}»</div>}
              </li>
            ))}
          </ol>
        )}
      </section>

      {opening && <OpenDialog conversation={c} onCancel={() => setOpening(false)} />}
    </aside>
  );
}

/** OpenDialog opens a dialog in the conversation's chat, then sets its type, reasons and components. */
function OpenDialog({ conversation: c, onCancel }: { conversation: Conversation; onCancel: () => void }) {
  const t = useT();
  const [settings, setSettings] = useState<DialogSettings | null>(null);
  const [users, setUsers] = useState<UserRef[] | null>(null);
  const [title, setTitle] = useState("");
  const [type, setType] = useState("");
  const [reasons, setReasons] = useState<string[]>([]);
  const [components, setComponents] = useState<string[]>([]);
  const [participants, setParticipants] = useState<number[]>([]);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.get<DialogSettings>("/api/v1/dialog-settings").then(setSettings, () => undefined);
    api.get<{ items: (UserRef & { disabled: boolean })[] }>("/api/v1/users").then(
      (r) => setUsers(r.items.filter((u) => !u.disabled)),
      () => setUsers([]),
    );
  }, []);

  const toggle = <V,>(list: V[], set: (l: V[]) => void, v: V) => set(list.includes(v) ? list.filter((x) => x !== v) : [...list, v]);

  const submit = async () => {
    setBusy(true);
    setError("");
    try {
      const d = await api.post<Conversation>("/api/v1/conversations", { chat_id: c.chat_id, title: title.trim(), participants });
      if (type || reasons.length || components.length) {
        const patch: Record<string, unknown> = {};
        if (type) patch.type = type;
        if (reasons.length) patch.reasons = reasons;
        if (components.length) patch.components = components;
        await api.patch(`/api/v1/conversations/${d.number}`, patch);
      }
      onCancel();
      navigate(conversationPath(d.number));
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title={t("conv.dialogs.openTitle")} onClose={onCancel}>
      <form
        className="conv-form"
        onSubmit={(ev) => {
          ev.preventDefault();
          void submit();
        }}
      >
        <label htmlFor="dlg-title">{t("conv.dialogs.title")}</label>
        <input id="dlg-title" value={title} maxLength={500} onChange={(ev) => setTitle(ev.target.value)} />
        <label htmlFor="dlg-type">{t("conv.wrap.type")}</label>
        <select id="dlg-type" value={type} onChange={(ev) => setType(ev.target.value)}>
          <option value="">{t("common.none")}</option>
          {settings?.types.map((x) => (
            <option key={x} value={x}>
              {x}
            </option>
          ))}
        </select>
        {settings && settings.reasons.length > 0 && (
          <fieldset>
            <legend>{t("conv.wrap.reasons")}</legend>
            {settings.reasons.map((x) => (
              <label key={x} className="check">
                <input type="checkbox" checked={reasons.includes(x)} onChange={() => toggle(reasons, setReasons, x)} /> {x}
              </label>
            ))}
          </fieldset>
        )}
        {settings && settings.components.length > 0 && (
          <fieldset>
            <legend>{t("conv.wrap.components")}</legend>
            {settings.components.map((x) => (
              <label key={x} className="check">
                <input type="checkbox" checked={components.includes(x)} onChange={() => toggle(components, setComponents, x)} /> {x}
              </label>
            ))}
          </fieldset>
        )}
        {users && users.length > 0 && (
          <fieldset className="conv-scroll">
            <legend>{t("conv.participants")}</legend>
            {users.map((u) => (
              <label key={u.id} className="check">
                <input type="checkbox" checked={participants.includes(u.id)} onChange={() => toggle(participants, setParticipants, u.id)} /> {u.name}
              </label>
            ))}
          </fieldset>
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
            {t("conv.dialogs.submit")}
          </button>
        </div>
      </form>
    </Modal>
  );
}
