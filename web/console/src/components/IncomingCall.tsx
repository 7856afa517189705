// An incoming call rings on a line the user works on: a card shows who calls (their client card
// when the number is known, the offer of a new one when not) with a way to open the call's card.
import { useEffect, useState } from "react";
import { api } from "../lib/api";
import { clientNumber, type Call } from "../lib/calls";
import { events } from "../lib/events";
import { useT } from "../lib/i18n";
import { linkHandler } from "../lib/router";
import "../pages/calls/calls.css";

export function IncomingCall() {
  const t = useT();
  const [call, setCall] = useState<Call | null>(null);
  useEffect(
    () =>
      events.subscribe((e) => {
        if (e.kind !== "call") return;
        const id = e.data.id as number;
        if (e.data.state === "ringing" && e.data.direction === "in") {
          api.get<Call>(`/api/v1/calls/${id}`).then(setCall, () => undefined);
        } else {
          setCall((c) => (c && c.id === id ? null : c));
        }
      }),
    [],
  );
  if (!call) return null;
  const path = `/calls/${call.id}`;
  return (
    <section className="incoming-call" role="alert" aria-labelledby="incoming-call-title">
      <h2 id="incoming-call-title">📞 {t("calls.incoming")}: {clientNumber(call) || t("calls.hidden")}</h2>
      {call.contact ? (
        <p><strong>{call.contact.name || call.contact.phone}</strong> {call.contact.email}</p>
      ) : (
        <p className="warn">{t("calls.unknownShort")}</p>
      )}
      <div className="actions">
        <a className="button primary" href={path} onClick={(e) => { linkHandler(path)(e); setCall(null); }}>
          {call.contact ? t("calls.openCard") : t("calls.newContact")}
        </a>
        <button type="button" className="link" onClick={() => setCall(null)}>{t("calls.dismiss")}</button>
      </div>
    </section>
  );
}
