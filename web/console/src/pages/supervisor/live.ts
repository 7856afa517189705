// Both supervisor boards reload from the API when something they show may have changed. Bursts of
// events coalesce: one reload after the burst settles, and never two reloads at once (an event
// during a reload schedules exactly one more).
import { useEffect, useRef } from "react";
import { events, type LiveEvent } from "../../lib/events";

export const liveDelay = 300;

export function relevant(e: LiveEvent): boolean {
  return e.kind.startsWith("conversation.") || e.kind === "presence" || e.kind === "message";
}

export function useLiveReload(load: () => Promise<unknown>) {
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    let again = false;
    let live = true;
    const run = async () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        await loadRef.current();
      } catch {
        /* the board shows its own error */
      } finally {
        running = false;
        if (again && live) {
          again = false;
          schedule();
        }
      }
    };
    const schedule = () => {
      clearTimeout(timer);
      timer = setTimeout(() => void run(), liveDelay);
    };
    const off = events.subscribe((e) => {
      if (relevant(e)) schedule();
    });
    const offReset = events.onReset(schedule);
    return () => {
      live = false;
      clearTimeout(timer);
      off();
      offReset();
    };
  }, []);
}
