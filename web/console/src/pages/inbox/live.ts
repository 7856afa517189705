// Coalescing for live refreshes: a storm of events becomes one refetch. The first event arms a
// short quiet-time timer; later events push it back, but never past maxWait after the first, so
// a steady stream still refreshes every maxWait and never once per event.
export function coalesce(fn: () => void, quietMs = 300, maxWaitMs = 1500) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let first = 0;
  const fire = () => {
    timer = undefined;
    first = 0;
    fn();
  };
  const trigger = () => {
    const now = Date.now();
    if (!first) first = now;
    clearTimeout(timer);
    const wait = Math.max(0, Math.min(quietMs, first + maxWaitMs - now));
    timer = setTimeout(fire, wait);
  };
  trigger.cancel = () => {
    clearTimeout(timer);
    timer = undefined;
    first = 0;
  };
  return trigger;
}
