// A stand-in for the conversation screen (the conversation area replaces this file): it shows the
// conversation's number and client so the inbox's right pane has something to open.
import { useEffect, useState } from "react";
import { api } from "../../lib/api";
import { useT } from "../../lib/i18n";
import type { Conversation } from "../../lib/types";

export function ConversationView({ number }: { number: number }) {
  const t = useT();
  const [conv, setConv] = useState<Conversation | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    let live = true;
    setConv(null);
    setError("");
    api.get<Conversation>("/api/v1/conversations/" + number).then(
      (c) => live && setConv(c),
      (e: unknown) => live && setError(e instanceof Error ? e.message : String(e)),
    );
    return () => {
      live = false;
    };
  }, [number]);
  if (error) return <p className="error" role="alert">{error}</p>;
  if (!conv) return <p className="empty">{t("inbox.conv.loading", { n: number })}</p>;
  return (
    <section className="conversation-stub" aria-label={t("inbox.conv.title", { n: number })}>
      <h2>{t("inbox.conv.title", { n: number })}</h2>
      <p>{conv.contact.name || conv.contact.email || conv.contact.phone}</p>
    </section>
  );
}
