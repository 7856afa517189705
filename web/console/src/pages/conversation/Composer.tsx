// The composer: a reply to the client or an internal note. Enter sends, Shift+Enter starts a new
// line; `/tag` suggests the templates allowed in the conversation's channel and `:name` suggests
// emoji, both picked with the arrow keys and Enter (or a click). Files (the button, a drop or a
// paste) upload at once and go with the reply as its attachments.
import { PaperclipIcon } from "../../components/PaperclipIcon";
import { forwardRef, useEffect, useImperativeHandle, useRef, useState, type ClipboardEvent, type DragEvent, type KeyboardEvent } from "react";
import { api } from "../../lib/api";
import { useI18n, type T } from "../../lib/i18n";
import { useSession } from "../../lib/session";
import type { Attachment, Conversation, Message } from "../../lib/types";
import { findEmoji } from "./emoji";
import { errorText, writeBlock, type Mode } from "./util";

interface Template {
  id: number;
  name: string;
  body: string;
  tags: string[];
}

interface Suggestion {
  key: string;
  label: string;
  hint: string;
  insert: string;
}

// maxFileSize is the server's limit (25 MB): a larger file is refused before it is sent.
export const maxFileSize = 25 << 20;

interface Upload {
  key: number;
  name: string;
  size: number;
  attachment?: Attachment;
  error?: string;
}

export interface ComposerHandle {
  focus: (mode: Mode) => void;
  /** insert adds text to the reply (a knowledge-base article), after what is typed already. */
  insert: (text: string) => void;
}

// A token being typed at the caret: `/tag` or `:emoji`, at the start or after a space.
const tagToken = /(^|\s)\/([\p{L}\p{N}_-]*)$/u;
const emojiToken = /(^|\s):([\p{L}\p{N}_]+)$/u;

export const Composer = forwardRef<ComposerHandle, { conversation: Conversation; onSent: (m: Message) => void }>(function Composer(
  { conversation: c, onSent },
  ref,
) {
  const { t } = useI18n();
  const me = useSession();
  const [mode, setMode] = useState<Mode>("reply");
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [suggestions, setSuggestions] = useState<Suggestion[]>([]);
  const [active, setActive] = useState(0);
  const [token, setToken] = useState<{ start: number; end: number } | null>(null);
  const [uploads, setUploads] = useState<Upload[]>([]);
  const area = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const lookup = useRef(0);
  const uploadKey = useRef(0);

  useImperativeHandle(ref, () => ({
    focus: (m: Mode) => {
      setMode(m);
      setTimeout(() => area.current?.focus(), 0);
    },
    insert: (more: string) => {
      setMode("reply");
      setText((old) => (old.trim() ? old.replace(/\s*$/, "") + "\n\n" : "") + more);
      setTimeout(() => area.current?.focus(), 0);
    },
  }));

  const block = writeBlock(me, c, mode);

  useEffect(() => {
    setSuggestions([]);
  }, [mode]);

  // Another conversation opened in the same pane: a draft never follows it there.
  useEffect(() => {
    setText("");
    setError("");
    setMode("reply");
    lookup.current++;
    setSuggestions([]);
    setToken(null);
  }, [c.number]);

  const closeSuggestions = () => {
    lookup.current++;
    setSuggestions([]);
    setToken(null);
  };

  // "… is typing" while an answer is written, told at most every few seconds: a website
  // visitor's widget shows it, and so do the consoles of colleagues who have the conversation open.
  const lastTyping = useRef(0);
  const typing = () => {
    if (mode !== "reply" || Date.now() - lastTyping.current < 3000) return;
    lastTyping.current = Date.now();
    api.post(`/api/v1/conversations/${c.number}/typing`).catch(() => undefined);
  };
  const suggest = async (value: string, caret: number) => {
    const before = value.slice(0, caret);
    const id = ++lookup.current;
    const tag = tagToken.exec(before);
    if (tag) {
      const start = caret - tag[2].length - 1;
      try {
        const r = await api.get<{ items: Template[] }>(
          "/api/v1/templates?" + new URLSearchParams({ tag: tag[2], channel: String(c.channel.id) }).toString(),
        );
        if (id !== lookup.current) return;
        setSuggestions(r.items.slice(0, 8).map((x) => ({ key: "t" + x.id, label: x.name, hint: x.tags.map((g) => "/" + g).join(" "), insert: x.body })));
        setActive(0);
        setToken({ start, end: caret });
      } catch {
        if (id === lookup.current) setSuggestions([]);
      }
      return;
    }
    const em = emojiToken.exec(before);
    if (em) {
      const list = findEmoji(em[2]);
      setSuggestions(list.map((x) => ({ key: "e" + x.char, label: x.char, hint: ":" + x.en[0] + " · " + x.ru[0], insert: x.char })));
      setActive(0);
      setToken({ start: caret - em[2].length - 1, end: caret });
      return;
    }
    setSuggestions([]);
    setToken(null);
  };

  const pick = (s: Suggestion) => {
    if (!token) return;
    const next = text.slice(0, token.start) + s.insert + text.slice(token.end);
    const caret = token.start + s.insert.length;
    setText(next);
    closeSuggestions();
    setTimeout(() => {
      area.current?.focus();
      area.current?.setSelectionRange(caret, caret);
    }, 0);
  };

  const addFiles = (files: FileList | File[]) => {
    for (const file of Array.from(files)) {
      const key = ++uploadKey.current;
      if (file.size > maxFileSize) {
        setUploads((u) => [...u, { key, name: file.name, size: file.size, error: t("conv.composer.fileTooLarge") }]);
        continue;
      }
      setUploads((u) => [...u, { key, name: file.name, size: file.size }]);
      const form = new FormData();
      form.append("file", file, file.name);
      api.post<{ url: string; name: string; content_type: string }>(`/api/v1/conversations/${c.number}/files`, form).then(
        (f) => setUploads((u) => u.map((x) => (x.key === key ? { ...x, attachment: { url: f.url, name: f.name, content_type: f.content_type } } : x))),
        (err) => setUploads((u) => u.map((x) => (x.key === key ? { ...x, error: errorText(t, err) } : x))),
      );
    }
  };
  const uploading = uploads.some((u) => !u.attachment && !u.error);
  const attachments = uploads.flatMap((u) => (u.attachment ? [u.attachment] : []));
  const filesInNote = mode === "note" && uploads.length > 0;

  const send = async () => {
    const body = text.trim();
    if ((!body && attachments.length === 0) || busy || block || uploading || filesInNote) return;
    setBusy(true);
    setError("");
    try {
      const m =
        mode === "note"
          ? await api.post<Message>(`/api/v1/conversations/${c.number}/notes`, { text: body })
          : await api.post<Message>(`/api/v1/conversations/${c.number}/messages`, attachments.length > 0 ? { text: body, attachments } : { text: body });
      setText("");
      setUploads([]);
      onSent(m);
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  };

  const onKeyDown = (ev: KeyboardEvent<HTMLTextAreaElement>) => {
    if (suggestions.length > 0) {
      if (ev.key === "ArrowDown") {
        ev.preventDefault();
        setActive((a) => (a + 1) % suggestions.length);
        return;
      }
      if (ev.key === "ArrowUp") {
        ev.preventDefault();
        setActive((a) => (a - 1 + suggestions.length) % suggestions.length);
        return;
      }
      if (ev.key === "Enter" || ev.key === "Tab") {
        ev.preventDefault();
        pick(suggestions[active]);
        return;
      }
      if (ev.key === "Escape") {
        ev.preventDefault();
        closeSuggestions();
        return;
      }
    }
    if (ev.key === "Enter" && !ev.shiftKey && !ev.nativeEvent.isComposing) {
      ev.preventDefault();
      void send();
    }
  };

  const onPaste = (ev: ClipboardEvent<HTMLTextAreaElement>) => {
    if (mode === "reply" && ev.clipboardData.files.length > 0) {
      ev.preventDefault();
      addFiles(ev.clipboardData.files);
    }
  };
  const onDrop = (ev: DragEvent<HTMLFormElement>) => {
    if (ev.dataTransfer.files.length === 0) return;
    ev.preventDefault();
    if (mode === "reply" && !block) addFiles(ev.dataTransfer.files);
  };

  const listId = `conv-suggest-${c.number}`;
  return (
    <form
      className={"conv-composer mode-" + mode}
      onSubmit={(ev) => {
        ev.preventDefault();
        void send();
      }}
      onDragOver={(ev) => {
        if (ev.dataTransfer.types.includes("Files")) ev.preventDefault();
      }}
      onDrop={onDrop}
    >
      <div className="conv-modes" role="radiogroup" aria-label={t("conv.composer.mode")}>
        {(["reply", "note"] as Mode[]).map((m) => (
          <label key={m} className={mode === m ? "on" : ""}>
            <input type="radio" name={"mode-" + c.number} value={m} checked={mode === m} onChange={() => setMode(m)} />
            {t(m === "reply" ? "conv.composer.reply" : "conv.composer.note")}
          </label>
        ))}
        <span className="conv-hint">{t("conv.composer.keys")}</span>
      </div>
      {block && (
        <p className="conv-block" role="status">
          {t(block)}
        </p>
      )}
      <div className="conv-input">
        {suggestions.length > 0 && (
          <ul className="conv-suggest" id={listId} role="listbox" aria-label={t("conv.composer.suggestions")}>
            {suggestions.map((s, i) => (
              <li
                key={s.key}
                id={listId + "-" + i}
                role="option"
                aria-selected={i === active}
                onMouseDown={(ev) => {
                  ev.preventDefault();
                  pick(s);
                }}
              >
                <span className="label">{s.label}</span> <span className="hint">{s.hint}</span>
              </li>
            ))}
          </ul>
        )}
        <label className="visually-hidden" htmlFor={"conv-text-" + c.number}>
          {t(mode === "note" ? "conv.composer.notePlaceholder" : "conv.composer.replyPlaceholder")}
        </label>
        <textarea
          id={"conv-text-" + c.number}
          ref={area}
          rows={3}
          value={text}
          disabled={!!block || busy}
          placeholder={t(mode === "note" ? "conv.composer.notePlaceholder" : "conv.composer.replyPlaceholder")}
          aria-autocomplete="list"
          aria-controls={suggestions.length > 0 ? listId : undefined}
          aria-activedescendant={suggestions.length > 0 ? listId + "-" + active : undefined}
          onChange={(ev) => {
            setText(ev.target.value);
            void suggest(ev.target.value, ev.target.selectionStart ?? ev.target.value.length);
            if (mode === "reply") typing();
          }}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
          onBlur={() => setTimeout(closeSuggestions, 150)}
        />
        <div className="conv-send">
          <button type="submit" className="primary" disabled={!!block || busy || uploading || filesInNote || (!text.trim() && attachments.length === 0)}>
            {t(mode === "note" ? "conv.composer.addNote" : "conv.composer.send")}
          </button>
          <button
            type="button"
            className="conv-attach"
            disabled={!!block || busy || mode === "note"}
            title={mode === "note" ? t("conv.composer.noFilesInNotes") : t("conv.composer.attachHint")}
            onClick={() => picker.current?.click()}
          >
            <PaperclipIcon /> {t("conv.composer.attach")}
          </button>
          <input
            ref={picker}
            type="file"
            multiple
            hidden
            aria-label={t("conv.composer.attach")}
            onChange={(ev) => {
              if (ev.target.files) addFiles(ev.target.files);
              ev.target.value = "";
            }}
          />
        </div>
      </div>
      {uploads.length > 0 && (
        <ul className="conv-uploads" aria-label={t("conv.composer.files")}>
          {uploads.map((u) => (
            <li key={u.key} className={u.error ? "failed" : u.attachment ? "done" : "uploading"}>
              <span className="name"><PaperclipIcon /> {u.name}</span> <span className="size">{fileSize(t, u.size)}</span>{" "}
              {!u.attachment && !u.error && <span className="state">{t("conv.composer.uploading")}</span>}
              {u.error && <span className="state">{u.error}</span>}
              <button type="button" className="link" aria-label={t("conv.composer.removeFile", { name: u.name })} onClick={() => setUploads((x) => x.filter((y) => y.key !== u.key))}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      {filesInNote && (
        <p className="conv-block" role="status">
          {t("conv.composer.noFilesInNotes")}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
});

/** fileSize reads a byte count the way people do: 900 B, 14 KB, 3.2 MB. */
export function fileSize(t: T, n: number): string {
  if (n < 1024) return t("conv.size.b", { n });
  if (n < 1024 * 1024) return t("conv.size.kb", { n: Math.round(n / 1024) });
  return t("conv.size.mb", { n: (n / 1024 / 1024).toFixed(1) });
}
