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

  it("has views reload when it connects from now, not when it resumes after an event", async () => {
    vi.stubGlobal("EventSource", FakeSource);
    const { events } = await import("./events");
    const reload = vi.fn();
    events.onReset(reload);
    events.start();
    const src = FakeSource.last!;
    src.onopen!();
    expect(reload).toHaveBeenCalledTimes(1); // changes before the stream began would be missed

    const seen: string[] = [];
    events.subscribe((e) => seen.push(e.kind));
    src.send("conversation.opened", "c1", { kind: "conversation.opened", conversation: 7 });
    expect(seen).toEqual(["conversation.opened"]);
    src.onerror!();
    src.onopen!(); // the browser resumed with Last-Event-ID: the server replays the gap
    expect(reload).toHaveBeenCalledTimes(1);
    events.stop();
  });
});
