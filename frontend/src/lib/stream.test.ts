import { backoffMs, Deduper, type EventSourceLike, StreamHub, type StreamDeps, streamUrl } from "./stream";

class FakeSource implements EventSourceLike {
  onopen: ((event: Event) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  closed = false;
  private readonly handlers = new Map<string, (event: MessageEvent) => void>();

  constructor(readonly url: string) {}

  addEventListener(type: string, listener: (event: MessageEvent) => void): void {
    this.handlers.set(type, listener);
  }

  close(): void {
    this.closed = true;
  }

  emit(type: string, id: string, data: unknown): void {
    this.handlers.get(type)?.(new MessageEvent(type, { data: JSON.stringify(data), lastEventId: id }));
  }
}

function memoryStorage(): StreamDeps["storage"] {
  const values = new Map<string, string>();
  return { getItem: (key) => values.get(key) ?? null, setItem: (key, value) => void values.set(key, value) };
}

function hubWith(storage = memoryStorage()) {
  const sources: FakeSource[] = [];
  const timers: (() => void)[] = [];
  let tickets = 0;
  const hub = new StreamHub({
    ticket: async () => ({ ticket: `t${++tickets}`, url: "http://127.0.0.1:8001/api/v1/live/stream" }),
    open: (url) => {
      const source = new FakeSource(url);
      sources.push(source);
      return source;
    },
    storage,
    channel: null,
    setTimeout: (callback) => timers.push(callback),
  });
  return { hub, sources, timers, storage };
}

describe("the live stream reader", () => {
  it("opens the stream with a fresh ticket and delivers events with their JSON data", async () => {
    const { hub, sources } = hubWith();
    const seen: unknown[] = [];
    hub.subscribe((event) => seen.push([event.type, event.data]));
    await hub.lead();
    expect(sources[0].url).toBe("http://127.0.0.1:8001/api/v1/live/stream?ticket=t1");
    sources[0].onopen?.(new Event("open"));
    expect(hub.state).toBe("open");
    sources[0].emit("fill", "5-0", { price: 101.5 });
    expect(seen).toEqual([["fill", { price: 101.5 }]]);
  });

  it("reconnects after an error with a new ticket, resuming after the last event seen", async () => {
    const { hub, sources, timers } = hubWith();
    await hub.lead();
    sources[0].emit("candle", "7-1", { t: 1 });
    sources[0].onerror?.(new Event("error"));
    expect(sources[0].closed).toBe(true);
    expect(hub.state).toBe("reconnecting");
    timers.shift()?.();
    await vi.waitFor(() => expect(sources).toHaveLength(2));
    expect(sources[1].url).toContain("ticket=t2");
    expect(sources[1].url).toContain("last_id=7-1");
  });

  it("drops an event it has already delivered", async () => {
    const { hub, sources, timers } = hubWith();
    const ids: string[] = [];
    hub.subscribe((event) => ids.push(event.id));
    await hub.lead();
    sources[0].emit("order", "1-0", {});
    sources[0].onerror?.(new Event("error"));
    timers.shift()?.();
    await vi.waitFor(() => expect(sources).toHaveLength(2));
    sources[1].emit("order", "1-0", {});
    sources[1].emit("order", "2-0", {});
    expect(ids).toEqual(["1-0", "2-0"]);
  });

  it("a tab opening the stream later resumes after what an earlier tab saw", async () => {
    const storage = memoryStorage();
    const first = hubWith(storage);
    await first.hub.lead();
    first.sources[0].emit("fill", "9-3", {});
    first.hub.pause();
    expect(first.sources[0].closed).toBe(true);
    const second = hubWith(storage);
    await second.hub.lead();
    expect(second.sources[0].url).toContain("last_id=9-3");
  });

  it("keeps a bounded memory of ids and backs off up to half a minute", () => {
    const deduper = new Deduper(2);
    expect([deduper.fresh("a"), deduper.fresh("a"), deduper.fresh("b"), deduper.fresh("c"), deduper.fresh("a")]).toEqual([
      true,
      false,
      true,
      true,
      true,
    ]);
    expect([1, 2, 3, 10].map(backoffMs)).toEqual([1000, 2000, 4000, 30000]);
    expect(streamUrl("http://h/s?x=1", "t", "bad id")).toBe("http://h/s?x=1&ticket=t");
  });
});
