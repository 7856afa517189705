// Russian and English. Each area of the console keeps its strings in src/strings/<area>.ts as an
// English table and a Russian one of exactly the same keys (the compiler checks that), merged
// here. The user picks the language in the top bar; the choice stays in this browser.
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import { en, ru, type Key } from "../strings";

export type Lang = "ru" | "en";
const tables: Record<Lang, Record<Key, string>> = { en, ru };
const storageKey = "linedesk.lang";

export function initialLang(): Lang {
  const saved = typeof localStorage !== "undefined" ? localStorage.getItem(storageKey) : null;
  if (saved === "ru" || saved === "en") return saved;
  return typeof navigator !== "undefined" && navigator.language?.toLowerCase().startsWith("en") ? "en" : "ru";
}

export type T = (key: Key, vars?: Record<string, string | number>) => string;

/** translate looks a key up in one language and fills {name} placeholders. */
export function translate(lang: Lang, key: Key, vars?: Record<string, string | number>): string {
  let s = tables[lang][key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.split("{" + k + "}").join(String(v));
  return s;
}

interface LangState {
  lang: Lang;
  setLang: (l: Lang) => void;
  t: T;
}

const Ctx = createContext<LangState>({ lang: "en", setLang: () => {}, t: (k, v) => translate("en", k, v) });

export function LangProvider({ children, lang: fixed }: { children: ReactNode; lang?: Lang }) {
  const [lang, setLangState] = useState<Lang>(fixed ?? initialLang());
  const setLang = useCallback((l: Lang) => {
    localStorage.setItem(storageKey, l);
    document.documentElement.lang = l;
    setLangState(l);
  }, []);
  const value = useMemo<LangState>(
    () => ({ lang, setLang, t: (k, v) => translate(lang, k, v) }),
    [lang, setLang],
  );
  if (typeof document !== "undefined") document.documentElement.lang = lang;
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useI18n(): LangState {
  return useContext(Ctx);
}

export function useT(): T {
  return useContext(Ctx).t;
}

/** Dates and times in the user's language. */
export function formatTime(lang: Lang, iso: string | null | undefined, withDate = false): string {
  if (!iso) return "";
  const d = new Date(iso);
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  const opts: Intl.DateTimeFormatOptions =
    sameDay && !withDate ? { hour: "2-digit", minute: "2-digit" } : { day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit" };
  return d.toLocaleString(lang === "ru" ? "ru-RU" : "en-GB", opts);
}

/** formatDuration prints a span in seconds as 45s, 12m, 3h 05m, 2d 4h. */
export function formatDuration(lang: Lang, seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const u = lang === "ru" ? { s: "с", m: "м", h: "ч", d: "д" } : { s: "s", m: "m", h: "h", d: "d" };
  if (s < 60) return `${s}${u.s}`;
  if (s < 3600) return `${Math.floor(s / 60)}${u.m}`;
  if (s < 86400) return `${Math.floor(s / 3600)}${u.h} ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}${u.m}`;
  return `${Math.floor(s / 86400)}${u.d} ${Math.floor((s % 86400) / 3600)}${u.h}`;
}
