// The live stream: one EventSource per browser, shared by every tab, paused while no tab is visible.
//
// The visible tab holding the "tickflow-stream" lock (Web Locks) is the leader: it asks the API for a
// single-use ticket, opens the stream, and relays each event to the other tabs on a BroadcastChannel.
// A hidden leader closes its stream and lets go of the lock, so a visible tab takes over. Whoever opens a
// stream resumes after the last event any tab saw (kept in localStorage), and every tab drops an event
// it has already seen, so a hand-over neither loses nor repeats one.

export interface StreamEvent {
  id: string;
  type: string;
  data: unknown;
}

export type StreamState = "connecting" | "open" | "reconnecting" | "paused" | "follower";

export const EVENT_TYPES = [
  "candle", "signal", "order", "fill", "rejected", "mismatch", "foreign", "broker", "skipped", "job", "halt", "limit", "stale", "quarantine",
] as const;

export interface EventSourceLike {
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  onopen: ((event: Event) => void) | null;
  onerror: ((event: Event) => void) | null;
  close(): void;
}

export interface Ticket {
  ticket: string;
  url: string;
}

export interface StreamDeps {
  ticket: () => Promise<Ticket>;
  open: (url: string) => EventSourceLike;
  storage: Pick<Storage, "getItem" | "setItem">;
  channel: { postMessage(message: unknown): void; onmessage: ((event: MessageEvent) => void) | null } | null;
  setTimeout: (callback: () => void, ms: number) => unknown;
}

const LAST_ID_KEY = "tickflow.stream.last-id";

/** Remembers the last ``size`` event ids seen, to drop repeats. */
export class Deduper {
  private readonly seen = new Set<string>();
  private readonly order: string[] = [];

  constructor(private readonly size = 2000) {}

  /** True the first time an id is offered. */
  fresh(id: string): boolean {
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    this.order.push(id);
    if (this.order.length > this.size) this.seen.delete(this.order.shift() as string);
    return true;
  }
}

/** The stream's URL with its ticket and the id to resume after (Redis stream ids: ``<ms>-<n>``). */
export function streamUrl(base: string, ticket: string, lastId: string | null): string {
  const url = new URL(base);
  url.searchParams.set("ticket", ticket);
  if (lastId && /^\d+-\d+$/.test(lastId)) url.searchParams.set("last_id", lastId);
  return url.toString();
}

/** Seconds to wait before the ``attempt``-th reconnection: 1, 2, 4 ... at most 30. */
export function backoffMs(attempt: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, attempt - 1));
}

export class StreamHub {
  private readonly listeners = new Set<(event: StreamEvent) => void>();
  private readonly stateListeners = new Set<(state: StreamState) => void>();
  private readonly deduper = new Deduper();
  private source: EventSourceLike | null = null;
  private attempt = 0;
  private leading = false;
  state: StreamState = "paused";

  constructor(private readonly deps: StreamDeps) {
    if (deps.channel) {
      deps.channel.onmessage = (message: MessageEvent) => {
        const relayed = message.data as { event?: StreamEvent; state?: StreamState };
        if (relayed.event) this.deliver(relayed.event);
        if (relayed.state && !this.leading) this.setState(relayed.state === "open" ? "follower" : relayed.state);
      };
    }
  }

  subscribe(listener: (event: StreamEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onState(listener: (state: StreamState) => void): () => void {
    this.stateListeners.add(listener);
    listener(this.state);
    return () => this.stateListeners.delete(listener);
  }

  /** Become the tab that streams (it holds the lock and is visible). */
  async lead(): Promise<void> {
    this.leading = true;
    this.attempt = 0;
    await this.connect();
  }

  /** Stop streaming (the tab was hidden, or gave the lock away). */
  pause(): void {
    this.leading = false;
    this.source?.close();
    this.source = null;
    this.setState("paused");
  }

  private async connect(): Promise<void> {
    if (!this.leading) return;
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting");
    let ticket: Ticket;
    try {
      ticket = await this.deps.ticket();
    } catch {
      this.retry();
      return;
    }
    if (!this.leading) return;
    const source = this.deps.open(streamUrl(ticket.url, ticket.ticket, this.deps.storage.getItem(LAST_ID_KEY)));
    this.source = source;
    source.onopen = () => {
      this.attempt = 0;
      this.setState("open");
    };
    source.onerror = () => {
      // A used ticket cannot reconnect by itself: close, then open anew with a new ticket.
      source.close();
      if (this.source === source) {
        this.source = null;
        this.retry();
      }
    };
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (message: MessageEvent) => this.received(type, message));
    }
  }

  private retry(): void {
    if (!this.leading) return;
    this.attempt += 1;
    this.setState("reconnecting");
    this.deps.setTimeout(() => void this.connect(), backoffMs(this.attempt));
  }

  private received(type: string, message: MessageEvent): void {
    const event: StreamEvent = { id: message.lastEventId, type, data: parse(message.data) };
    if (event.id) this.deps.storage.setItem(LAST_ID_KEY, event.id);
    this.deps.channel?.postMessage({ event });
    this.deliver(event);
  }

  private deliver(event: StreamEvent): void {
    if (event.id && !this.deduper.fresh(event.id)) return;
    this.listeners.forEach((listener) => listener(event));
  }

  private setState(state: StreamState): void {
    this.state = state;
    if (this.leading) this.deps.channel?.postMessage({ state });
    this.stateListeners.forEach((listener) => listener(state));
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
