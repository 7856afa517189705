// A tiny router on the History API: the console has a handful of screens, and every one is a
// real URL (reload and links work; Go serves index.html for them).
import { useEffect, useState } from "react";

const listeners = new Set<() => void>();

export function navigate(path: string, replace = false) {
  if (path === location.pathname + location.search) return;
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  listeners.forEach((l) => l());
}

if (typeof window !== "undefined") window.addEventListener("popstate", () => listeners.forEach((l) => l()));

export interface Location {
  path: string;
  params: URLSearchParams;
}

function current(): Location {
  return { path: location.pathname, params: new URLSearchParams(location.search) };
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const l = () => setLoc(current());
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, []);
  return loc;
}

/** match returns the named segments when path fits pattern ("/inbox/:number"), else null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split("/").filter(Boolean);
  const a = path.split("/").filter(Boolean);
  if (p.length !== a.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(":")) out[p[i].slice(1)] = decodeURIComponent(a[i]);
    else if (p[i] !== a[i]) return null;
  }
  return out;
}

/** Link is an anchor that navigates without reloading. */
export function linkHandler(path: string) {
  return (ev: { preventDefault(): void; ctrlKey?: boolean; metaKey?: boolean; button?: number }) => {
    if (ev.ctrlKey || ev.metaKey || (ev.button !== undefined && ev.button !== 0)) return;
    ev.preventDefault();
    navigate(path);
  };
}
