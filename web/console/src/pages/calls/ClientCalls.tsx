// The client's calls in the conversation's side panel (seed 001: a call from a number on the
// client's card is linked to them, with its recording to listen to at any time).
import { useEffect, useState } from "react";
import { api, query } from "../../lib/api";
import type { Call } from "../../lib/calls";
import { formatTime, useI18n, useT } from "../../lib/i18n";
import { linkHandler } from "../../lib/router";
import { callState } from "./Calls";

export function ClientCalls({ contactID, conversation }: { contactID: number; conversation: number }) {
  const t = useT();
  const { lang } = useI18n();
  const [calls, setCalls] = useState<Call[]>([]);
  useEffect(() => {
    if (!contactID) return;
    api.get<{ calls: Call[] }>("/api/v1/calls" + query({ contact_id: contactID, limit: 20 })).then(
      (r) => setCalls(r.calls),
      () => setCalls([]),
    );
  }, [contactID, conversation]);
  if (calls.length === 0) return null;
  return (
    <section aria-labelledby="client-calls">
      <h2 id="client-calls">{t("calls.clientCalls")}</h2>
      <ul className="client-calls">
        {calls.map((c) => (
          <li key={c.id}>
            <a href={`/calls/${c.id}`} onClick={linkHandler(`/calls/${c.id}`)}>
              {c.direction === "in" ? "↙" : "↗"} {formatTime(lang, c.started_at, true)}
            </a>{" "}
            {callState(t, lang, c)}
            {c.conversation === conversation && " · №" + c.conversation}
            {c.recording_url && <audio controls preload="none" src={c.recording_url} aria-label={t("calls.recording")} />}
          </li>
        ))}
      </ul>
    </section>
  );
}
