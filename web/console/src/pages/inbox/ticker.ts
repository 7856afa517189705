// One clock for every waiting timer on screen: a single interval, started while anyone listens.
import { useEffect, useState } from "react";

const listeners = new Set<(now: number) => void>();
let interval: ReturnType<typeof setInterval> | undefined;

function subscribe(fn: (now: number) => void): () => void {
  listeners.add(fn);
  if (!interval) interval = setInterval(() => {
    const now = Date.now();
    listeners.forEach((l) => l(now));
  }, 1000);
  return () => {
    listeners.delete(fn);
    if (listeners.size === 0 && interval) {
      clearInterval(interval);
      interval = undefined;
    }
  };
}

/** useNow is the current time in ms, updated every second. */
export function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => subscribe(setNow), []);
  return now;
}
