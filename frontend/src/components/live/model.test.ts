import type { Account } from "@/lib/types";

import { applyPrice, feedItem, FEED_SIZE, fillText, latestSignals, mergeSignal, pushFeed, quoteCurrency, strategyTotals, withUnit } from "./model";

function account(changes: Partial<Account>): Account {
  return {
    strategy_id: "s1",
    symbol: "BTCUSDT",
    cash: 10_000,
    side: "flat",
    size: 0,
    entry_price: null,
    entry_time: null,
    price: 60_000,
    unrealised_pnl: 0,
    balance: 10_000,
    equity: 10_000,
    ...changes,
  };
}

describe("the fill toast", () => {
  it("says side, size, symbol and price with separators", () => {
    expect(fillText({ side: "buy", size: 0.01, symbol: "BTCUSDT", price: 60123.45 })).toBe("Filled: buy 0.01 BTCUSDT @ 60,123.45");
    expect(fillText({ side: "sell", size: 1.5, symbol: "ETHUSDT", price: 2500 })).toBe("Filled: sell 1.5 ETHUSDT @ 2,500.00");
  });
});

describe("re-pricing accounts from a candle close", () => {
  const long = account({ side: "long", size: 0.5, entry_price: 60_000, balance: 9_990 });
  const short = account({ strategy_id: "s2", side: "short", size: 2, entry_price: 61_000, balance: 20_000, cash: 20_000 });
  const other = account({ symbol: "ETHUSDT", price: 3_000 });

  it("marks long and short positions on the candle's symbol as the API does", () => {
    const [a, b, c] = applyPrice([long, short, other], "BTCUSDT", 60_100);
    expect(a).toMatchObject({ price: 60_100, unrealised_pnl: 50, equity: 10_040 });
    expect(b).toMatchObject({ price: 60_100, unrealised_pnl: 1_800, equity: 21_800 });
    expect(c).toBe(other);
  });

  it("gives a flat account the price and no unrealised PnL", () => {
    const [flat] = applyPrice([account({ balance: 10_250 })], "BTCUSDT", 59_000);
    expect(flat).toMatchObject({ price: 59_000, unrealised_pnl: 0, equity: 10_250 });
  });

  it("returns the very same list when no account trades the symbol", () => {
    const accounts = [long];
    expect(applyPrice(accounts, "SOLUSDT", 150)).toBe(accounts);
    expect(applyPrice(accounts, "BTCUSDT", Number.NaN)).toBe(accounts);
  });
});

describe("strategy totals", () => {
  it("sums a strategy's accounts and its PnL against its cash", () => {
    const totals = strategyTotals([
      account({ side: "long", size: 1, entry_price: 100, unrealised_pnl: 25, balance: 9_990, equity: 10_015 }),
      account({ symbol: "ETHUSDT", balance: 10_100, equity: 10_100 }),
      account({ strategy_id: "s2", cash: 500, balance: 480, equity: 480 }),
    ]);
    expect(totals.get("s1")).toEqual({ cash: 20_000, balance: 20_090, unrealised: 25, equity: 20_115, pnl: 115, positions: 1 });
    expect(totals.get("s2")?.pnl).toBe(-20);
  });
});

describe("signals", () => {
  const base = { timeframe: "1m", pending: false };
  it("keeps each strategy's newest signal over its symbols", () => {
    const latest = latestSignals([
      { ...base, strategy_id: "s1", symbol: "BTCUSDT", t: 1_000, order: "long", pending: true },
      { ...base, strategy_id: "s1", symbol: "ETHUSDT", t: 2_000, order: "none" },
      { ...base, strategy_id: "s2", symbol: "BTCUSDT", t: 500, order: null },
    ]);
    expect(latest.get("s1")).toEqual({ symbol: "ETHUSDT", t: 2_000, order: "none", pending: false });
    expect(latest.get("s2")?.order).toBe("none");
  });

  it("replaces the signal of the same strategy and symbol", () => {
    const first = { ...base, strategy_id: "s1", symbol: "BTCUSDT", t: 1_000, order: "none" };
    const other = { ...base, strategy_id: "s1", symbol: "ETHUSDT", t: 1_000, order: "none" };
    const next = { ...first, t: 2_000, order: "long", pending: true };
    expect(mergeSignal([first, other], next)).toEqual([other, next]);
  });
});

describe("the event feed", () => {
  it("describes orders, fills, skipped entries and mismatches", () => {
    const order = feedItem("1-0", "order", {
      client_order_id: "x", strategy_id: "s1", symbol: "BTCUSDT", side: "sell", size: 0.25, price: 61_000.5, commission: 1, ts: 5, reason: "stop_loss",
    });
    expect(order).toMatchObject({ kind: "order", time: 5, text: "Order: sell 0.25 BTCUSDT @ 61,000.50 (stop loss)" });
    const fill = feedItem("2-0", "fill", { client_order_id: "x", strategy_id: "s1", symbol: "BTCUSDT", side: "buy", size: 0.01, price: 60123.45, commission: 0.6, ts: 9 });
    expect(fill?.text).toBe("Filled: buy 0.01 BTCUSDT @ 60,123.45, commission 0.60");
    const skipped = feedItem("3-0", "skipped", { strategy_id: "s1", symbol: "BTCUSDT", timeframe: "1m", time: 7, bar: 6, side: "long", price: 60_000, equity: 5, reason: "size_below_step" });
    expect(skipped?.text).toBe("Skipped long entry on BTCUSDT @ 60,000.00: size below the quantity step (equity 5.00)");
    const mismatch = feedItem("4-0", "mismatch", { strategy_id: "s1", symbol: "BTCUSDT", mode: "paper", engine_size: 0.5, broker_size: 0, since: 3, confirmed: true });
    expect(mismatch).toMatchObject({ kind: "mismatch", tone: "red", time: 3 });
    expect(mismatch?.text).toContain("engine 0.5, broker 0 (confirmed)");
    expect(feedItem("5-0", "candle", {})).toBeNull();
  });

  it("describes what a venue did: rejected orders, foreign orders, paused entries, orders awaiting an answer and the reason of a mismatch", () => {
    const rejected = feedItem("1700000000123-0", "rejected", {
      client_order_id: "x", strategy_id: "s1", symbol: "BTCUSDT", side: "buy", size: 0.5, kind: "rejected", code: -2010, reason: "Account has insufficient balance for requested action.",
    });
    expect(rejected).toMatchObject({ kind: "rejected", tone: "red", time: 1700000000123 });
    expect(rejected?.text).toBe("Rejected: buy 0.5 BTCUSDT, rejected -2010: Account has insufficient balance for requested action.");
    const notSent = feedItem("1-0", "rejected", { client_order_id: "x", strategy_id: "s1", symbol: "BTCUSDT", side: "buy", size: 0.5, kind: "not_sent", code: null, reason: "NOTIONAL" });
    expect(notSent?.text).toBe("Rejected: buy 0.5 BTCUSDT, not sent: NOTIONAL");
    const foreign = feedItem("2-0", "foreign", { venue_order_id: "9", client_order_id: "web_1", symbol: "BTCUSDT", side: "buy", status: "FILLED", executed: 2, time: 4 });
    expect(foreign).toMatchObject({ kind: "foreign", tone: "amber", time: 4 });
    expect(foreign?.text).toContain("buy 2 (FILLED, id web_1), not placed by TickFlow");
    const paused = feedItem("3-0", "broker", { strategy_id: "s1", action: "paused", rejections: 3, code: -2010, reason: "insufficient balance", since: 8 });
    expect(paused?.text).toBe("Entries paused after 3 orders refused for lack of balance (-2010: insufficient balance); start the strategy again to resume");
    const awaiting = feedItem("5-0", "broker", { strategy_id: "s1", action: "awaiting", symbol: "BTCUSDT", client_order_id: "tf1x", reason: "unknown: 503", since: 9, close: 1 });
    expect(awaiting).toMatchObject({ tone: "amber", time: 9 });
    expect(awaiting?.text).toBe("Order tf1x on BTCUSDT awaits the venue's answer (unknown: 503); later closes pass this position by until it comes");
    const resumed = feedItem("7-0", "broker", { strategy_id: "s1", action: "resumed", symbol: "BTCUSDT", passed: 1, since: 12 });
    expect(resumed).toMatchObject({ tone: "green", time: 12 });
    expect(resumed?.text).toBe("BTCUSDT trades again: the venue answered; 1 close passed it by");
    const mismatch = feedItem("4-0", "mismatch", {
      strategy_id: "s1", symbol: "BTCUSDT", mode: "live", engine_size: 0.5, broker_size: 0, since: 3, confirmed: true, reason: "the venue account holds 0 BTC",
    });
    expect(mismatch?.text).toMatch(/\(confirmed\): the venue account holds 0 BTC$/);
  });

  it("says which loss limit stopped a strategy and by how much", () => {
    const stop = feedItem("6-0", "limit", {
      strategy_id: "s1", symbol: "BTCUSDT", timeframe: "1m", t: 11, limit: "max_daily_loss", action: "stop", value: 0.0201, threshold: 0.02, equity: 9799, reference: 10000,
    });
    expect(stop).toMatchObject({ kind: "limit", tone: "red", time: 11 });
    expect(stop?.text).toBe("Stopped by max daily loss on BTCUSDT (2.01% down, limit 2.00%): positions close, the strategy stops");
  });

  it("puts the newest first, drops repeats and keeps a bounded list", () => {
    const item = (id: string) => ({ id, kind: "fill" as const, strategyId: "s1", time: 0, text: id, tone: "green" as const });
    let feed = pushFeed([], item("1"));
    feed = pushFeed(feed, item("2"));
    expect(feed.map((entry) => entry.id)).toEqual(["2", "1"]);
    expect(pushFeed(feed, item("1"))).toBe(feed);
    for (let i = 3; i < FEED_SIZE + 10; i++) feed = pushFeed(feed, item(String(i)));
    expect(feed).toHaveLength(FEED_SIZE);
    expect(feed[0].id).toBe(String(FEED_SIZE + 9));
  });
});

describe("units", () => {
  it("names the quote currency the symbols share", () => {
    expect(quoteCurrency(["BTCUSDT", "ETHUSDT"])).toBe("USDT");
    expect(quoteCurrency(["ETHBTC"])).toBe("BTC");
    expect(quoteCurrency(["BTCUSDT", "ETHEUR"])).toBe("");
    expect(quoteCurrency(["FOO"])).toBe("");
    expect(withUnit("10.00", "USDT")).toBe("10.00 USDT");
    expect(withUnit("—", "USDT")).toBe("—");
  });
});
