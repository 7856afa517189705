// Contact merge (issue 12, X02): a supervisor finds the same person's other card (another
// channel, another address) and merges it into this conversation's client, keeping both histories.
import { useState, type FormEvent } from "react";
import { api, query } from "../../lib/api";
import { useT } from "../../lib/i18n";
import { errorText } from "./util";

interface Card {
  id: number;
  name: string;
  email: string;
  phone: string;
}

export function MergeContact({ contactID, onMerged }: { contactID: number; onMerged: () => void }) {
  const t = useT();
  const [open, setOpen] = useState(false);
  const [words, setWords] = useState("");
  const [found, setFound] = useState<Card[] | null>(null);
  const [confirm, setConfirm] = useState<Card | null>(null);
  const [error, setError] = useState("");
  const find = async (ev: FormEvent) => {
    ev.preventDefault();
    if (!words.trim()) return;
    try {
      const r = await api.get<{ items: { contact?: Card }[] }>("/api/v1/search" + query({ kind: "contacts", q: words.trim(), limit: 10 }));
      setFound(r.items.map((h) => h.contact!).filter((k) => k && k.id !== contactID));
      setError("");
    } catch (err) {
      setError(errorText(t, err));
    }
  };
  const merge = async (k: Card) => {
    try {
      await api.post(`/api/v1/contacts/${contactID}/merge`, { contact_id: k.id });
      setOpen(false);
      setFound(null);
      setConfirm(null);
      setWords("");
      onMerged();
    } catch (err) {
      setError(errorText(t, err));
    }
  };
  if (!open) return <button type="button" className="link" onClick={() => setOpen(true)}>{t("conv.merge.open")}</button>;
  return (
    <div className="conv-merge">
      <form role="search" onSubmit={(e) => void find(e)}>
        <input type="search" value={words} placeholder={t("conv.merge.search")} aria-label={t("conv.merge.search")} onChange={(e) => setWords(e.target.value)} />
        <button type="submit">{t("conv.merge.find")}</button>
      </form>
      {error && <p className="error" role="alert">{error}</p>}
      {found && found.length === 0 && <p className="muted">{t("conv.merge.none")}</p>}
      {found && found.length > 0 && (
        <ul className="conv-list">
          {found.map((k) => (
            <li key={k.id}>
              <strong>{k.name || "—"}</strong> <span className="muted">{[k.email, k.phone].filter(Boolean).join(" · ")}</span>{" "}
              {confirm?.id === k.id ? (
                <>
                  <button type="button" className="danger" onClick={() => void merge(k)}>{t("conv.merge.confirm")}</button>{" "}
                  <button type="button" className="link" onClick={() => setConfirm(null)}>{t("common.cancel")}</button>
                </>
              ) : (
                <button type="button" onClick={() => setConfirm(k)}>{t("conv.merge.this")}</button>
              )}
            </li>
          ))}
        </ul>
      )}
      <button type="button" className="link" onClick={() => setOpen(false)}>{t("common.cancel")}</button>
    </div>
  );
}

/** BlockClient blocks the client or marks them as spam (X14): the desk then takes nothing from them. */
export function BlockClient({ contactID, blocked, canUnblock, onChanged }: { contactID: number; blocked: "" | "spam" | "blocked"; canUnblock: boolean; onChanged: () => void }) {
  const t = useT();
  const [asking, setAsking] = useState<"" | "spam" | "blocked">("");
  const [error, setError] = useState("");
  const set = async (reason: "" | "spam" | "blocked") => {
    try {
      await api.put(`/api/v1/contacts/${contactID}/block`, { reason });
      setAsking("");
      setError("");
      onChanged();
    } catch (err) {
      setError(errorText(t, err));
    }
  };
  if (blocked)
    return (
      <p className="conv-blocked" role="status">
        {t(blocked === "spam" ? "conv.block.isSpam" : "conv.block.isBlocked")}{" "}
        {canUnblock && <button type="button" className="link" onClick={() => void set("")}>{t("conv.block.unblock")}</button>}
        {error && <span className="error" role="alert"> {error}</span>}
      </p>
    );
  return (
    <div className="conv-block">
      {asking ? (
        <>
          <span>{t("conv.block.confirm")}</span>{" "}
          <button type="button" className="danger" onClick={() => void set(asking)}>{t(asking === "spam" ? "conv.block.spam" : "conv.block.block")}</button>{" "}
          <button type="button" className="link" onClick={() => setAsking("")}>{t("common.cancel")}</button>
        </>
      ) : (
        <>
          <button type="button" className="link" onClick={() => setAsking("blocked")}>{t("conv.block.block")}</button>{" · "}
          <button type="button" className="link" onClick={() => setAsking("spam")}>{t("conv.block.spam")}</button>
        </>
      )}
      {error && <span className="error" role="alert"> {error}</span>}
    </div>
  );
}
