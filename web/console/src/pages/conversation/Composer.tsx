// The composer: a reply to the client or an internal note. Enter sends, Shift+Enter starts a new
// line; `/tag` suggests the templates allowed in the conversation's channel and `:name` suggests
// emoji, both picked with the arrow keys and Enter (or a click).
import { forwardRef, useEffect, useImperativeHandle, useRef, useState, type KeyboardEvent } from "react";
import { api } from "../../lib/api";
import { useI18n } from "../../lib/i18n";
import { useSession } from "../../lib/session";
import type { Conversation, Message } from "../../lib/types";
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

export interface ComposerHandle {
  focus: (mode: Mode) => void;
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
  const area = useRef<HTMLTextAreaElement>(null);
  const lookup = useRef(0);

  useImperativeHandle(ref, () => ({
    focus: (m: Mode) => {
      setMode(m);
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

  const send = async () => {
    const body = text.trim();
    if (!body || busy || block) return;
    setBusy(true);
    setError("");
    try {
      const m =
        mode === "note"
          ? await api.post<Message>(`/api/v1/conversations/${c.number}/notes`, { text: body })
          : await api.post<Message>(`/api/v1/conversations/${c.number}/messages`, { text: body });
      setText("");
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

  const listId = `conv-suggest-${c.number}`;
  return (
    <form
      className={"conv-composer mode-" + mode}
      onSubmit={(ev) => {
        ev.preventDefault();
        void send();
      }}
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
          }}
          onKeyDown={onKeyDown}
          onBlur={() => setTimeout(closeSuggestions, 150)}
        />
        <button type="submit" className="primary" disabled={!!block || busy || !text.trim()}>
          {t(mode === "note" ? "conv.composer.addNote" : "conv.composer.send")}
        </button>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
});
