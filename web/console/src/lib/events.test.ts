import { afterEach, describe, expect, it, vi } from "vitest";

// A stand-in for the browser's EventSource: the test opens it and sends events.
class FakeSource {
  static last: FakeSource | null = null;
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onmessage: ((m: MessageEvent) => void) | null = null;
  listeners = new Map<string, (m: MessageEvent) => void>();
  constructor(public url: string) {
    FakeSource.last = this;
  }
  addEventListener(kind: string, h: (m: MessageEvent) => void) {
    this.listeners.set(kind, h);
  }
  close() {}
  send(kind: string, id: string, data: object) {
    this.listeners.get(kind)?.({ data: JSON.stringify(data), lastEventId: id } as MessageEvent);
  }
}

describe("the live event stream", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  it("is ready once open, and has views reload only when they were shown before it opened", async () => {
    vi.useFakeTimers();
    vi.stubGlobal("EventSource", FakeSource);
    const { events } = await import("./events");
    const reload = vi.fn();
    events.onReset(reload);
    events.start();
    let ready = false;
    void events.ready().then(() => (ready = true));
    const src = FakeSource.last!;
    src.onopen!();
    await vi.runAllTimersAsync();
    expect(ready).toBe(true);
    expect(reload).not.toHaveBeenCalled(); // the views load after the stream opened: nothing missed

    const seen: string[] = [];
    events.subscribe((e) => seen.push(e.kind));
    src.send("conversation.opened", "c1", { kind: "conversation.opened", conversation: 7 });
    expect(seen).toEqual(["conversation.opened"]);
    src.onerror!();
    src.onopen!(); // the browser resumed with Last-Event-ID: the server replays the gap
    expect(reload).not.toHaveBeenCalled();
    events.stop();
    vi.useRealTimers();
  });

  it("shows the views after a while without the stream, and has them reload when it opens", async () => {
    vi.useFakeTimers();
    vi.stubGlobal("EventSource", FakeSource);
    const { events } = await import("./events");
    const reload = vi.fn();
    events.onReset(reload);
    events.start();
    let ready = false;
    void events.ready().then(() => (ready = true));
    await vi.advanceTimersByTimeAsync(3000);
    expect(ready).toBe(true);
    FakeSource.last!.onopen!(); // late: changes since the views loaded may be missed
    expect(reload).toHaveBeenCalledTimes(1);
    events.stop();
    vi.useRealTimers();
  });
});
