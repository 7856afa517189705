// The call log (seed 001 "Звонок"): every call of the user's lines, newest first, live. A call's
// card shows the caller's client card (or offers a new one for an unknown number), the recording,
// and makes a conversation from the call with its type and solution.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api, query } from "../../lib/api";
import { clientNumber, talkSeconds, type Call } from "../../lib/calls";
import { events } from "../../lib/events";
import { formatDuration, formatTime, useI18n, useT } from "../../lib/i18n";
import { linkHandler, navigate } from "../../lib/router";
import { ErrorNote } from "../admin/channels/form";
import type { DialogSettings } from "../conversation/WrapUp";
import { conversationPath } from "../conversation/util";
import "./calls.css";

export function callState(t: ReturnType<typeof useT>, lang: "ru" | "en", c: Call): string {
  if (c.missed) return t("calls.missed") + (c.cause ? ` (${c.cause})` : "");
  if (c.state === "ringing") return t("calls.ringing");
  const talk = talkSeconds(c);
  if (talk === null) return t("calls.talking");
  return formatDuration(lang, talk);
}

export function Calls({ selected }: { selected: number | null }) {
  const t = useT();
  const { lang } = useI18n();
  const [calls, setCalls] = useState<Call[] | null>(null);
  const [missedOnly, setMissedOnly] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async () => {
    try {
      const r = await api.get<{ calls: Call[] }>("/api/v1/calls" + query({ limit: 100, missed: missedOnly || undefined }));
      setCalls(r.calls);
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, [missedOnly]);
  useEffect(() => void load(), [load]);
  useEffect(() => {
    const off = events.subscribe((e) => {
      if (e.kind === "call") void load();
    });
    const offReset = events.onReset(() => void load());
    return () => {
      off();
      offReset();
    };
  }, [load]);

  return (
    <div className="calls">
      <section className="calls-log" aria-labelledby="calls-title">
        <header>
          <h1 id="calls-title">{t("calls.title")}</h1>
          <label className="inline">
            <input type="checkbox" checked={missedOnly} onChange={(e) => setMissedOnly(e.target.checked)} /> {t("calls.missedOnly")}
          </label>
        </header>
        <ErrorNote error={error} />
        {calls === null ? (
          <p className="muted">{t("common.loading")}</p>
        ) : calls.length === 0 ? (
          <p className="empty">{t("calls.empty")}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>{t("calls.when")}</th>
                <th>{t("calls.number")}</th>
                <th>{t("calls.client")}</th>
                <th>{t("calls.state")}</th>
                <th>{t("calls.conversation")}</th>
              </tr>
            </thead>
            <tbody>
              {calls.map((c) => (
                <tr key={c.id} aria-selected={c.id === selected} className={c.missed ? "missed" : undefined}>
                  <td>{formatTime(lang, c.started_at, true)}</td>
                  <td>
                    <a href={`/calls/${c.id}`} onClick={linkHandler(`/calls/${c.id}`)}>
                      {c.direction === "in" ? "↙ " : "↗ "}
                      {clientNumber(c) || t("calls.hidden")}
                    </a>
                  </td>
                  <td>{c.contact ? c.contact.name || c.contact.phone : <span className="muted">{t("calls.unknown")}</span>}</td>
                  <td>{callState(t, lang, c)}</td>
                  <td>{c.conversation ? <a href={conversationPath(c.conversation)} onClick={linkHandler(conversationPath(c.conversation))}>№{c.conversation}</a> : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {selected !== null && <CallCard key={selected} id={selected} onChanged={() => void load()} />}
    </div>
  );
}

/** CallCard is one call: who called, the recording, and what to do with it. */
export function CallCard({ id, onChanged }: { id: number; onChanged: () => void }) {
  const t = useT();
  const { lang } = useI18n();
  const [call, setCall] = useState<Call | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    try {
      setCall(await api.get<Call>(`/api/v1/calls/${id}`));
    } catch (err) {
      setError(err);
    }
  }, [id]);
  useEffect(() => void load(), [load]);
  useEffect(
    () =>
      events.subscribe((e) => {
        if (e.kind === "call" && e.data.id === id) void load();
      }),
    [id, load],
  );
  if (!call) return <aside className="call-card"><ErrorNote error={error} />{!error && <p className="muted">{t("common.loading")}</p>}</aside>;
  const changed = (c: Call) => {
    setCall(c);
    onChanged();
  };
  return (
    <aside className="call-card" aria-labelledby="call-card-title">
      <h2 id="call-card-title">
        {call.direction === "in" ? t("calls.incoming") : t("calls.outgoing")}: {clientNumber(call) || t("calls.hidden")}
      </h2>
      <dl>
        <dt>{t("calls.when")}</dt>
        <dd>{formatTime(lang, call.started_at, true)}</dd>
        <dt>{t("calls.state")}</dt>
        <dd>{callState(t, lang, call)}</dd>
        {call.answered_by && (
          <>
            <dt>{t("calls.answeredBy")}</dt>
            <dd>{call.answered_by.name}</dd>
          </>
        )}
      </dl>
      {call.recording_url ? (
        <figure className="call-recording">
          <figcaption>{t("calls.recording")}</figcaption>
          <audio controls preload="none" src={call.recording_url} />
        </figure>
      ) : (
        call.recording_error && <p className="warn">{call.recording_error}</p>
      )}
      <section aria-labelledby="call-client">
        <h3 id="call-client">{t("calls.client")}</h3>
        {call.contact ? (
          <p className="call-contact">
            <strong>{call.contact.name || t("common.none")}</strong> {call.contact.phone} {call.contact.email}
          </p>
        ) : call.client_number ? (
          <NewContact call={call} onDone={changed} />
        ) : (
          <p className="muted">{t("calls.hiddenNoCard")}</p>
        )}
      </section>
      <section aria-labelledby="call-conv">
        <h3 id="call-conv">{t("calls.conversation")}</h3>
        {call.conversation ? (
          <p>
            <a href={conversationPath(call.conversation)} onClick={linkHandler(conversationPath(call.conversation))}>
              {t("calls.openConversation", { n: call.conversation })}
            </a>
          </p>
        ) : (
          <NewConversation call={call} />
        )}
      </section>
    </aside>
  );
}

function NewContact({ call, onDone }: { call: Call; onDone: (c: Call) => void }) {
  const t = useT();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      onDone(await api.post<Call>(`/api/v1/calls/${call.id}/contact`, { name, email }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="form" onSubmit={(e) => void submit(e)} aria-label={t("calls.newContact")}>
      <p className="warn">{t("calls.unknownOffer", { number: "+" + call.client_number })}</p>
      <label className="field">
        <span>{t("calls.contactName")}</span>
        <input value={name} required maxLength={200} onChange={(e) => setName(e.target.value)} />
      </label>
      <label className="field">
        <span>{t("calls.contactEmail")}</span>
        <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <div className="actions">
        <button type="submit" disabled={busy}>{t("calls.newContact")}</button>
      </div>
      <ErrorNote error={error} />
    </form>
  );
}

function NewConversation({ call }: { call: Call }) {
  const t = useT();
  const [settings, setSettings] = useState<DialogSettings | null>(null);
  const [type, setType] = useState("");
  const [solution, setSolution] = useState("");
  const [resolved, setResolved] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api.get<DialogSettings>("/api/v1/dialog-settings").then(setSettings, setError);
  }, []);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      const conv = await api.post<{ number: number }>(`/api/v1/calls/${call.id}/conversation`, { type, solution, resolved });
      navigate(conversationPath(conv.number));
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <form className="form" onSubmit={(e) => void submit(e)} aria-label={t("calls.makeConversation")}>
      <label className="field">
        <span>{t("calls.type")}</span>
        <select value={type} onChange={(e) => setType(e.target.value)} required={resolved && (settings?.types.length ?? 0) > 0}>
          <option value="">{t("common.none")}</option>
          {settings?.types.map((x) => <option key={x} value={x}>{x}</option>)}
        </select>
      </label>
      <label className="field">
        <span>{t("calls.solution")}</span>
        <textarea value={solution} rows={3} maxLength={20000} onChange={(e) => setSolution(e.target.value)} />
      </label>
      <label className="inline">
        <input type="checkbox" checked={resolved} onChange={(e) => setResolved(e.target.checked)} /> {t("calls.resolved")}
      </label>
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>{t("calls.makeConversation")}</button>
      </div>
      <ErrorNote error={error} />
    </form>
  );
}
