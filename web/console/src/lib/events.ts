// One live connection to GET /api/v1/events per tab. The browser's EventSource reconnects by
// itself and sends Last-Event-ID, so the server replays whatever was missed in order; an
// `event: reset` means the gap is older than the server keeps, and every view reloads.
//
// A connection opened without a last id starts from that moment, so the console shows its views
// only once the stream is open (ready()): whatever changes after their first load then arrives
// live. When the stream takes longer than readyWait to open, the views are shown anyway, and
// reload once it opens, since what changed in between would be missed.
const readyWait = 3000;

export interface LiveEvent {
  id: string;
  kind: string;
  at: string;
  line_id?: number;
  conversation?: number;
  status?: string;
  assignee_id?: number;
  data: Record<string, unknown>;
}

type Handler = (e: LiveEvent) => void;
type StateHandler = (connected: boolean) => void;

// The server names each SSE event by its kind; EventSource only delivers named events to
// listeners registered for that exact name, so the console listens to every kind it knows.
// The conversation kinds are the timeline kinds the conversation workflow records
// (workflows/conversation.go, c.event).
export const eventKinds = [
  "message",
  "message.status",
  "notification",
  "task",
  "presence",
  "call",
  "typing",
  "viewing",
  "conversation.assigned",
  "conversation.auto_closed",
  "conversation.closed",
  "conversation.csat_answered",
  "conversation.edited",
  "conversation.labeled",
  "conversation.line_changed",
  "conversation.note_added",
  "conversation.opened",
  "conversation.paused",
  "conversation.regulation_changed",
  "conversation.replied",
  "conversation.resumed",
  "conversation.returned",
  "conversation.routed",
  "conversation.taken",
  "conversation.transferred",
  "conversation.sla_warning",
  "conversation.sla_breached",
];

class EventStream {
  private source: EventSource | null = null;
  private handlers = new Set<Handler>();
  private resetHandlers = new Set<() => void>();
  private stateHandlers = new Set<StateHandler>();
  private lastId = "";
  private shown = false; // the views were shown before the stream first opened
  private readyWaiters: (() => void)[] = [];
  connected = false;

  // ready resolves once the stream is open, or after readyWait without it.
  ready(): Promise<void> {
    if (this.connected || this.shown || !this.source) return Promise.resolve();
    return new Promise((resolve) => {
      this.readyWaiters.push(resolve);
      setTimeout(() => {
        if (!this.connected) this.shown = true;
        this.release();
      }, readyWait);
    });
  }

  private release() {
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    waiters.forEach((w) => w());
  }

  start() {
    if (this.source || typeof EventSource === "undefined") return;
    const src = new EventSource("/api/v1/events");
    this.source = src;
    const deliver = (m: MessageEvent) => {
      if (m.lastEventId) this.lastId = m.lastEventId;
      let e: LiveEvent;
      try {
        e = JSON.parse(m.data) as LiveEvent;
      } catch {
        return;
      }
      this.handlers.forEach((h) => h(e));
    };
    src.onmessage = deliver;
    for (const k of eventKinds) src.addEventListener(k, deliver as EventListener);
    src.addEventListener("reset", () => this.resetHandlers.forEach((h) => h()));
    src.onopen = () => {
      this.setConnected(true);
      if (this.shown && !this.lastId) this.resetHandlers.forEach((h) => h());
      this.shown = false;
      this.release();
    };
    src.onerror = () => this.setConnected(false);
  }

  stop() {
    this.source?.close();
    this.source = null;
    this.lastId = "";
    this.shown = false;
    this.release();
    this.setConnected(false);
  }

  private setConnected(c: boolean) {
    if (c === this.connected) return;
    this.connected = c;
    this.stateHandlers.forEach((h) => h(c));
  }

  subscribe(h: Handler): () => void {
    this.handlers.add(h);
    return () => this.handlers.delete(h);
  }

  onReset(h: () => void): () => void {
    this.resetHandlers.add(h);
    return () => this.resetHandlers.delete(h);
  }

  onState(h: StateHandler): () => void {
    this.stateHandlers.add(h);
    return () => this.stateHandlers.delete(h);
  }
}

export const events = new EventStream();
