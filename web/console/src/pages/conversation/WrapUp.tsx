// The wrap-up form that closes a conversation: type, reasons and components from the dialog
// settings, the solution, the operator's 1–3 star rating of the client, CSAT and a follow-up
// ticket. Unread client messages need an explicit confirmation (confirm_unread).
import { useEffect, useState } from "react";
import { api, ApiError } from "../../lib/api";
import { useT } from "../../lib/i18n";
import type { Conversation } from "../../lib/types";
import { Modal } from "./Modal";
import { errorText } from "./util";

export interface DialogSettings {
  types: string[];
  reasons: string[];
  components: string[];
}

export function WrapUp({ conversation: c, onDone, onCancel }: { conversation: Conversation; onDone: (c: Conversation) => void; onCancel: () => void }) {
  const t = useT();
  const [settings, setSettings] = useState<DialogSettings | null>(null);
  const [type, setType] = useState(c.type);
  const [reasons, setReasons] = useState<string[]>(c.reasons ?? []);
  const [components, setComponents] = useState<string[]>(c.components ?? []);
  const [solution, setSolution] = useState(c.solution ?? "");
  const [rating, setRating] = useState(0);
  const [sendCsat, setSendCsat] = useState(true);
  const [openTicket, setOpenTicket] = useState(false);
  const [unread, setUnread] = useState(c.unread > 0);
  const [confirmUnread, setConfirmUnread] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");

  useEffect(() => {
    api
      .get<DialogSettings>("/api/v1/dialog-settings")
      .then(setSettings)
      .catch((err) => setError(errorText(t, err)));
  }, [t]);

  const submit = async () => {
    if (unread && !confirmUnread) return;
    setBusy(true);
    setError("");
    try {
      const body: Record<string, unknown> = { solution, client_rating: rating, send_csat: sendCsat, open_ticket: openTicket };
      if (type) body.type = type;
      body.reasons = reasons;
      body.components = components;
      if (unread) body.confirm_unread = true;
      const r = await api.post<Conversation>(`/api/v1/conversations/${c.number}/close`, body);
      onDone(r);
    } catch (err) {
      if (err instanceof ApiError && err.code === "unread_messages") {
        // The warning below says it; the user confirms and sends again.
        setUnread(true);
        setConfirmUnread(false);
      } else setError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  };

  const toggle = (list: string[], set: (l: string[]) => void, v: string) => set(list.includes(v) ? list.filter((x) => x !== v) : [...list, v]);

  return (
    <Modal title={t("conv.wrap.title", { number: c.number })} onClose={onCancel}>
      <form
        className="conv-form"
        onSubmit={(ev) => {
          ev.preventDefault();
          void submit();
        }}
      >
        <label htmlFor="wrap-type">{t("conv.wrap.type")}</label>
        <select id="wrap-type" value={type} onChange={(ev) => setType(ev.target.value)}>
          <option value="">{t("common.none")}</option>
          {settings?.types.map((x) => (
            <option key={x} value={x}>
              {x}
            </option>
          ))}
          {type && settings && !settings.types.includes(type) && <option value={type}>{type}</option>}
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
        <label htmlFor="wrap-solution">{t("conv.wrap.solution")}</label>
        <textarea id="wrap-solution" rows={3} value={solution} onChange={(ev) => setSolution(ev.target.value)} />
        <fieldset className="conv-stars">
          <legend>{t("conv.wrap.rating")}</legend>
          {[0, 1, 2, 3].map((n) => (
            <label key={n} className="check">
              <input type="radio" name="wrap-rating" checked={rating === n} onChange={() => setRating(n)} />
              {n === 0 ? t("conv.wrap.noRating") : <span aria-label={t("conv.wrap.stars", { n })}>{"★".repeat(n)}</span>}
            </label>
          ))}
        </fieldset>
        <label className="check">
          <input type="checkbox" checked={sendCsat} onChange={(ev) => setSendCsat(ev.target.checked)} /> {t("conv.wrap.sendCsat")}
        </label>
        <label className="check">
          <input type="checkbox" checked={openTicket} onChange={(ev) => setOpenTicket(ev.target.checked)} /> {t("conv.wrap.openTicket")}
        </label>
        {unread && (
          <div className="conv-warning" role="alert">
            <p>{t("conv.wrap.unread", { n: c.unread || 1 })}</p>
            <label className="check">
              <input type="checkbox" checked={confirmUnread} onChange={(ev) => setConfirmUnread(ev.target.checked)} /> {t("conv.wrap.confirmUnread")}
            </label>
          </div>
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
          <button type="submit" className="primary" disabled={busy || (unread && !confirmUnread)}>
            {t("conv.wrap.submit")}
          </button>
        </div>
      </form>
    </Modal>
  );
}
