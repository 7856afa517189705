// Pieces every settings screen uses: loading a resource, showing what the server refused, a
// confirm-before-delete button and a secret shown once with a copy button.
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError } from "../../lib/api";
import { useT, type Lang, type T } from "../../lib/i18n";

/** charLength counts characters (code points), as the server's length limits do: a Cyrillic
 * letter or an emoji is one. */
export function charLength(s: string): number {
  return [...s].length;
}

/** formatDate prints a day with its year (token expiry, holidays). */
export function formatDate(lang: Lang, iso: string): string {
  const d = new Date(iso);
  return isNaN(d.getTime()) ? iso : d.toLocaleDateString(lang === "ru" ? "ru-RU" : "en-GB", { day: "numeric", month: "short", year: "numeric" });
}

/** problemsOf turns a failed call into lines for the user: a translated headline, then the
 * server's own list of invalid fields when it sent one. */
export function problemsOf(t: T, err: unknown): string[] {
  if (err instanceof ApiError) {
    if (err.status === 0) return [t("error.network")];
    if (err.status === 401) return [t("settings.error.signedOut")];
    if (err.status === 403) return [t("error.forbidden")];
    if (err.status === 404) return [t("error.notFound")];
    if (err.code === "invalid_fields" || err.code === "bad_request") return [t("settings.error.invalid"), ...splitProblems(err.message)];
    if (err.status === 409) return [t("settings.error.conflict"), err.message];
    if (err.status === 503) return [t("error.unavailable"), err.message];
    return [t("error.generic", { message: err.message })];
  }
  return [t("error.generic", { message: err instanceof Error ? err.message : String(err) })];
}

/** splitProblems splits the server's invalid_fields message ("a; b", calendar problems on lines). */
export function splitProblems(message: string): string[] {
  return message
    .split(/;\s|\n/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Problems shows a refusal: the first line as the headline, the rest as a list. */
export function Problems({ lines, id }: { lines: string[]; id?: string }) {
  if (lines.length === 0) return null;
  const [head, ...rest] = lines;
  return (
    <div className="settings-problems" role="alert" id={id}>
      <p>{head}</p>
      {rest.length > 0 && (
        <ul>
          {rest.map((l, i) => (
            <li key={i}>{l}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** useResource loads a value and reloads it on demand; error holds the refusal's lines. */
export function useResource<V>(load: () => Promise<V>, deps: unknown[]) {
  const t = useT();
  const [value, setValue] = useState<V | null>(null);
  const [error, setError] = useState<string[]>([]);
  const fn = useCallback(load, deps);
  const reload = useCallback(async () => {
    try {
      const v = await fn();
      setValue(v);
      setError([]);
    } catch (err) {
      setError(problemsOf(t, err));
    }
  }, [fn, t]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { value, setValue, error, reload };
}

/** Saved is a short-lived "Saved" note read out by screen readers. */
export function useFlash(): [string, (s: string) => void] {
  const [msg, setMsg] = useState("");
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const flash = useCallback((s: string) => {
    setMsg(s);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setMsg(""), 4000);
  }, []);
  return [msg, flash];
}

export function Flash({ text }: { text: string }) {
  return (
    <span className="settings-flash" role="status">
      {text}
    </span>
  );
}

/** ConfirmButton asks once more, in place, before a destructive action. */
export function ConfirmButton({ label, question, onConfirm, disabled }: { label: string; question: string; onConfirm: () => void; disabled?: boolean }) {
  const t = useT();
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <button type="button" className="danger" disabled={disabled} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  return (
    <span className="settings-confirm" role="group" aria-label={question}>
      <span>{question}</span>
      <button
        type="button"
        className="danger"
        autoFocus
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {t("common.yes")}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        {t("common.no")}
      </button>
    </span>
  );
}

/** SecretOnce shows a secret the server gives out only once, with a copy button. */
export function SecretOnce({ label, value, onDone }: { label: string; value: string; onDone: () => void }) {
  const t = useT();
  const [copied, setCopied] = useState(false);
  const ref = useRef<HTMLInputElement>(null);
  // The secret appears at the top of the screen: bring it into view and to the screen reader.
  useEffect(() => {
    ref.current?.focus();
    ref.current?.scrollIntoView?.({ block: "center" });
  }, [value]);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
    } catch {
      ref.current?.select();
    }
  };
  return (
    <div className="settings-secret" role="region" aria-label={label}>
      <p>
        <strong>{label}</strong> {t("settings.secret.once")}
      </p>
      <div className="settings-row">
        <input ref={ref} readOnly value={value} aria-label={label} onFocus={(e) => e.currentTarget.select()} className="mono grow" />
        <button type="button" onClick={() => void copy()}>
          {t("settings.secret.copy")}
        </button>
        <button type="button" onClick={onDone}>
          {t("settings.secret.done")}
        </button>
      </div>
      {copied && <span role="status">{t("settings.secret.copied")}</span>}
    </div>
  );
}
