// Small pieces every admin and supervisor form shares: the error box that says what the server
// refused and why, a read-only value with a copy button, and a loader hook.
import { useCallback, useEffect, useState } from "react";
import { ApiError } from "../../../lib/api";
import { useT, type T } from "../../../lib/i18n";

/** describeError turns an API refusal into a headline and the list of problems, in the user's language. */
export function describeError(t: T, err: unknown): { title: string; items: string[] } {
  if (!(err instanceof ApiError)) return { title: t("error.generic", { message: err instanceof Error ? err.message : String(err) }), items: [] };
  if (err.status === 0) return { title: t("error.network"), items: [] };
  if (err.status === 400 && err.code === "invalid_fields")
    return { title: t("admin.error.invalid"), items: err.message.split("; ").filter(Boolean) };
  if (err.status === 400) return { title: t("admin.error.badRequest"), items: [err.message] };
  if (err.status === 403) return { title: t("error.forbidden"), items: [] };
  if (err.status === 404) return { title: t("error.notFound"), items: [err.message] };
  if (err.status === 409) {
    const known: Record<string, Parameters<T>[0]> = {
      email_taken: "admin.error.emailTaken",
      name_taken: "admin.error.nameTaken",
      last_admin: "admin.error.lastAdmin",
      conflict: "admin.error.conflict",
    };
    return { title: t(known[err.code] ?? "admin.error.conflict"), items: [err.message] };
  }
  if (err.status === 503) return { title: t("error.unavailable"), items: [] };
  return { title: t("error.generic", { message: err.message }), items: [] };
}

/** ErrorNote shows an error (nothing when there is none) as an alert a screen reader announces. */
export function ErrorNote({ error }: { error: unknown }) {
  const t = useT();
  if (!error) return null;
  const d = describeError(t, error);
  return (
    <div className="form-error" role="alert">
      <strong>{d.title}</strong>
      {d.items.length > 0 && (
        <ul>
          {d.items.map((m, i) => (
            <li key={i}>{m}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** CopyField shows a value (a token, a URL) read-only with a button that copies it. */
export function CopyField({ label, value, multiline }: { label: string; value: string; multiline?: boolean }) {
  const t = useT();
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      setCopied(false);
    }
  };
  return (
    <div className="copy-field">
      <label>
        <span>{label}</span>
        {multiline ? <textarea readOnly value={value} rows={6} wrap="off" /> : <input readOnly value={value} onFocus={(e) => e.target.select()} />}
      </label>
      <button type="button" onClick={() => void copy()} aria-label={t("admin.copy") + ": " + label}>
        {copied ? t("admin.copied") : t("admin.copy")}
      </button>
    </div>
  );
}

/** useLoad fetches once (and again on reload()), keeping the value, the error and whether it is loading. */
export function useLoad<R>(fn: () => Promise<R>, deps: unknown[]) {
  const [data, setData] = useState<R | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(fn, deps);
  useEffect(() => {
    let live = true;
    run().then(
      (r) => {
        if (!live) return;
        setData(r);
        setError(null);
      },
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [run, tick]);
  return { data, error, reload: () => setTick((n) => n + 1), setData };
}

/** toggle adds or removes one id from a list. */
export function toggle<V>(list: V[], v: V, on: boolean): V[] {
  return on ? (list.includes(v) ? list : [...list, v]) : list.filter((x) => x !== v);
}
