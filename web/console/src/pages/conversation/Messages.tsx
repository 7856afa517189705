// The conversation's messages, styled by who wrote them: the client, an operator, an internal
// note, or linedesk itself (automated and system messages). Outgoing messages carry delivery
// ticks; a failed one says why and can be sent again.
import { PaperclipIcon } from "../../components/PaperclipIcon";
import { useLayoutEffect, useRef, useState } from "react";
import { api } from "../../lib/api";
import { formatTime, useI18n, useT } from "../../lib/i18n";
import type { Attachment, MailAddress, Message, MessageMail } from "../../lib/types";
import type { Key } from "../../strings";
import { errorText } from "./util";

const imageExt = /\.(png|jpe?g|gif|webp|bmp|svg)(\?.*)?$/i;

function isImage(a: Attachment): boolean {
  return a.content_type ? a.content_type.startsWith("image/") : imageExt.test(a.url);
}

function kindOf(m: Message): "client" | "operator" | "note" | "system" {
  if (m.direction === "in") return "client";
  if (m.direction === "note") return "note";
  if (m.direction === "out" && m.author) return "operator";
  return "system";
}

const knownKinds = ["reply", "chat", "csat", "csat_thanks", "auto_close", "tunnel", "broadcast", "ai"];

export function Messages({ number, items, onChanged }: { number: number; items: Message[]; onChanged: (m: Message) => void }) {
  const { t, lang } = useI18n();
  const box = useRef<HTMLDivElement>(null);
  const nearBottom = useRef(true);
  const [errors, setErrors] = useState<Record<string, string>>({});
  // An image that cannot be shown (gone, or another site's, which the console's CSP blocks) is a link.
  const [broken, setBroken] = useState<Record<string, boolean>>({});

  // Follow new messages only when the reader is at (or near) the bottom already.
  useLayoutEffect(() => {
    const el = box.current;
    if (el && nearBottom.current) el.scrollTop = el.scrollHeight;
  }, [items]);

  const retry = async (m: Message) => {
    try {
      const r = await api.post<Message>(`/api/v1/conversations/${number}/messages/${m.id}/retry`);
      setErrors((e) => ({ ...e, [m.id]: "" }));
      onChanged(r);
    } catch (err) {
      setErrors((e) => ({ ...e, [m.id]: errorText(t, err) }));
    }
  };

  return (
    <div
      className="conv-messages"
      ref={box}
      role="log"
      aria-live="polite"
      aria-label={t("conv.messages")}
      tabIndex={0}
      onScroll={(ev) => {
        const el = ev.currentTarget;
        nearBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
      }}
    >
      {items.length === 0 && <p className="empty">{t("conv.noMessages")}</p>}
      {items.map((m) => {
        const k = kindOf(m);
        return (
          <article key={m.id} className={"conv-msg conv-" + k} data-id={m.id} data-status={m.status}>
            <header>
              <span className="who">
                {k === "client" && t("conv.msg.client")}
                {k === "operator" && m.author?.name}
                {k === "note" && t("conv.msg.note", { who: m.author?.name ?? t("conv.system") })}
                {k === "system" && (m.kind && knownKinds.includes(m.kind) ? t(("conv.msgKind." + m.kind) as Key) : t("conv.msg.system"))}
              </span>
              <time dateTime={m.created_at}>{formatTime(lang, m.created_at)}</time>
              {m.direction === "out" && <Ticks m={m} />}
            </header>
            {m.mail && <MailHead mail={m.mail} />}
            {m.text && <div className="text">{m.text}</div>}
            {m.mail && <MailBody mail={m.mail} />}
            {m.attachments?.length > 0 && (
              <ul className="conv-attachments">
                {m.attachments.map((a, i) => (
                  <li key={i}>
                    {isImage(a) && !broken[a.url] ? (
                      <a href={a.url} target="_blank" rel="noreferrer">
                        <img
                          src={a.url}
                          alt={a.name || t("conv.msg.image")}
                          loading="lazy"
                          onLoad={() => {
                            // The picture grew the list after it was scrolled: keep following.
                            const el = box.current;
                            if (el && nearBottom.current) el.scrollTop = el.scrollHeight;
                          }}
                          onError={() => setBroken((b) => ({ ...b, [a.url]: true }))}
                        />
                      </a>
                    ) : (
                      <a href={a.url} download={a.name || true} target="_blank" rel="noreferrer">
                        <PaperclipIcon /> {a.name || a.url.split("/").pop() || t("conv.msg.file")}
                      </a>
                    )}
                  </li>
                ))}
              </ul>
            )}
            {m.buttons?.length > 0 && (
              <div className="conv-buttons" aria-label={t("conv.msg.buttons")}>
                {m.buttons.map((b) => (
                  <span key={b.payload} className="conv-chip">
                    {b.text || b.payload}
                  </span>
                ))}
              </div>
            )}
            {m.status === "failed" && (
              <div className="conv-failed" role="alert">
                {t("conv.msg.failed")}
                {m.delivery?.last_error ? ": " + m.delivery.last_error : ""}{" "}
                <button type="button" className="link" onClick={() => void retry(m)}>
                  {t("conv.msg.retry")}
                </button>
                {errors[m.id] && <span className="error"> {errors[m.id]}</span>}
              </div>
            )}
          </article>
        );
      })}
    </div>
  );
}

const addr = (a: MailAddress | Record<string, never>) => ("address" in a ? (a.name ? `${a.name} <${a.address}>` : a.address) : "");

/** MailHead shows a mail's subject and addresses above its text. */
function MailHead({ mail }: { mail: MessageMail }) {
  const t = useT();
  return (
    <div className="conv-mail-head">
      {mail.subject && <strong className="subject">{mail.subject}</strong>}
      <small>
        {addr(mail.from) && <>{t("conv.mail.from")}: {addr(mail.from)}</>}
        {mail.to.length > 0 && <> · {t("conv.mail.to")}: {mail.to.map(addr).join(", ")}</>}
        {mail.cc.length > 0 && <> · {t("conv.mail.cc")}: {mail.cc.map(addr).join(", ")}</>}
      </small>
    </div>
  );
}

/** MailBody folds what a mail carries besides its new text: the quoted history and its HTML,
 * shown in a sandboxed frame (no scripts, no navigation, no requests of its own). */
function MailBody({ mail }: { mail: MessageMail }) {
  const t = useT();
  return (
    <>
      {mail.full_text && (
        <details className="conv-mail-quote">
          <summary>{t("conv.mail.quoted")}</summary>
          <div className="text">{mail.full_text}</div>
        </details>
      )}
      {mail.html && (
        <details className="conv-mail-html">
          <summary>{t("conv.mail.html")}</summary>
          <iframe title={t("conv.mail.html")} sandbox="" referrerPolicy="no-referrer"
            srcDoc={`<!doctype html><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'"><body style="font-family:sans-serif;font-size:14px">${mail.html}</body>`} />
        </details>
      )}
    </>
  );
}

function Ticks({ m }: { m: Message }) {
  const t = useI18n().t;
  switch (m.status) {
    case "pending":
      return (
        <span className="tick pending" title={t("conv.tick.pending")} aria-label={t("conv.tick.pending")}>
          ✓
        </span>
      );
    case "sent":
      return (
        <span className="tick sent" title={t("conv.tick.sent")} aria-label={t("conv.tick.sent")}>
          ✓✓
        </span>
      );
    case "delivered":
    case "read":
      return (
        <span className={"tick " + m.status} title={t(("conv.tick." + m.status) as Key)} aria-label={t(("conv.tick." + m.status) as Key)}>
          ✓✓
        </span>
      );
    case "failed":
      return (
        <span className="tick failed" title={t("conv.tick.failed")} aria-label={t("conv.tick.failed")}>
          ✕
        </span>
      );
    case "queued":
    case "dropped":
    case "merged":
      return <span className={"tick " + m.status}>{t(("conv.tick." + m.status) as Key)}</span>;
    default:
      return null;
  }
}
