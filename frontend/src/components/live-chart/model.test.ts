import { describe, expect, it } from "vitest";

import type { Account, TradeLog } from "@/lib/types";

import {
  barFromCandle,
  chartColumns,
  chartEnd,
  chartIndicators,
  fillMarker,
  formingCandle,
  indicatorValuesAt,
  isCandleEvent,
  LINE_COLORS,
  liveMarkers,
  markerText,
  mergeMarkers,
  openAccount,
  openTrade,
  priceLines,
  recentStart,
  type StrategyChart,
} from "./model";

const MINUTE = 60_000;

function chart(overrides: Partial<StrategyChart> = {}): StrategyChart {
  return {
    strategy_id: "s1",
    version: 1,
    symbol: "BTCUSDT",
    timeframe: "1m",
    period_ms: MINUTE,
    bars: 3,
    candles: { t: [0, MINUTE, 2 * MINUTE], o: [1, 2, 3], h: [2, 3, 4], l: [0.5, 1.5, 2.5], c: [2, 3, 3.5], v: [10, 11, 12] },
    indicators: {
      fast: { function: "SMA", params: { timeperiod: 2 }, pane: "price", outputs: { real: [null, 2.5, 3.25] } },
      macd: { function: "MACD", params: {}, pane: "separate", outputs: { macd: [null, null, 0.1], macdsignal: [null, null, 0.05] } },
    },
    markers: { time: [], price: [], side: [], reason: [] },
    fills: { time: [], price: [], side: [], size: [], commission: [], reason: [] },
    live_from: MINUTE,
    forming: null,
    ...overrides,
  };
}

const account = (changes: Partial<Account> = {}): Account => ({
  strategy_id: "s1",
  symbol: "BTCUSDT",
  cash: 1000,
  side: "long",
  size: 0.5,
  entry_price: 100,
  entry_time: 0,
  price: 101,
  unrealised_pnl: 0.5,
  balance: 1000,
  equity: 1000.5,
  ...changes,
});

describe("the chart's answer", () => {
  it("gives columns, indicators with their panes and the values at one candle", () => {
    const answer = chart();
    expect(chartColumns(answer).c).toEqual([2, 3, 3.5]);
    expect(chartIndicators(answer).map((item) => [item.name, item.pane])).toEqual([
      ["fast", "price"],
      ["macd", "separate"],
    ]);
    expect(indicatorValuesAt(answer, 2)).toEqual({ fast: { real: 3.25 }, macd: { macd: 0.1, macdsignal: 0.05 } });
    expect(indicatorValuesAt(answer, 0)).toEqual({ fast: { real: null }, macd: { macd: null, macdsignal: null } });
  });

  it("reads the forming candle, absent as null or an empty object", () => {
    expect(formingCandle(chart({ forming: { t: 3 * MINUTE, o: 3.5, h: 4, l: 3, c: 3.8, v: 2 } }))).toEqual({ t: 3 * MINUTE, o: 3.5, h: 4, l: 3, c: 3.8, v: 2 });
    expect(formingCandle(chart({ forming: null }))).toBeNull();
    expect(formingCandle(chart({ forming: {} }))).toBeNull();
  });

  it("ends after the forming candle, else after the last candle's period", () => {
    expect(chartEnd(chart({ forming: { t: 3 * MINUTE, o: 1, h: 1, l: 1, c: 1, v: 0 } }), MINUTE)).toBe(4 * MINUTE);
    expect(chartEnd(chart({ period_ms: 5 * MINUTE }), MINUTE)).toBe(7 * MINUTE);
    expect(chartEnd(chart({ candles: { t: [], o: [], h: [], l: [], c: [], v: [] } }), MINUTE)).toBeNull();
  });

  it("asks for the last bars of the timeframe, aligned", () => {
    expect(recentStart(10 * MINUTE + 5, MINUTE, 4)).toBe(6 * MINUTE);
  });
});

describe("a closed candle of the stream", () => {
  const last = { t: 2 * MINUTE, o: 3, h: 4, l: 2.5, c: 3.5, v: 12 };

  it("replaces the bar it closes (the forming one) or follows it, when bars are the timeframe", () => {
    const closing = { t: 2 * MINUTE, o: 3, h: 4.2, l: 2.4, c: 3.9, v: 14 };
    expect(barFromCandle(closing, MINUTE, MINUTE, last, MINUTE)).toEqual(closing);
    const next = { t: 3 * MINUTE, o: 3.9, h: 4, l: 3.8, c: 3.95, v: 1 };
    expect(barFromCandle(next, MINUTE, MINUTE, last, 2 * MINUTE)).toEqual(next);
  });

  it("is dropped when older than the last bar drawn", () => {
    expect(barFromCandle({ t: MINUTE, o: 1, h: 1, l: 1, c: 1, v: 1 }, MINUTE, MINUTE, last, 2 * MINUTE)).toBeNull();
  });

  it("merges into the period it opens in, once, when bars are merged periods", () => {
    const period = 5 * MINUTE;
    const bucket = { t: 0, o: 1, h: 4, l: 0.5, c: 3.5, v: 33 };
    const candle = { t: 3 * MINUTE, o: 3.5, h: 5, l: 3.4, c: 4.5, v: 2 };
    expect(barFromCandle(candle, period, MINUTE, bucket, 2 * MINUTE)).toEqual({ t: 0, o: 1, h: 5, l: 0.5, c: 4.5, v: 35 });
    expect(barFromCandle(candle, period, MINUTE, bucket, 3 * MINUTE)).toBeNull(); // already merged
    expect(barFromCandle({ ...candle, t: 5 * MINUTE }, period, MINUTE, bucket, 4 * MINUTE)).toEqual({ ...candle, t: 5 * MINUTE });
    expect(barFromCandle({ ...candle, t: 11 * MINUTE }, period, MINUTE, bucket, null)).toEqual({ ...candle, t: 10 * MINUTE });
  });

  it("is recognised by its shape", () => {
    expect(isCandleEvent({ symbol: "BTCUSDT", timeframe: "1m", t: 0, o: 1, h: 1, l: 1, c: 1, v: 0 })).toBe(true);
    expect(isCandleEvent({ symbol: "BTCUSDT", timeframe: "1m", t: 0, o: 1 })).toBe(false);
    expect(isCandleEvent(null)).toBe(false);
  });
});

describe("markers", () => {
  it("make one marker of a fill and the trade entry or exit it is, named by the trade", () => {
    const answer = chart({
      markers: { time: [MINUTE, 2 * MINUTE], price: [2, 3.4], side: ["buy", "sell"], reason: ["enter_long", "stop_loss"] },
      fills: { time: [MINUTE, 2 * MINUTE], price: [2.01, 3.39], side: ["buy", "sell"], size: [0.5, 0.5], commission: [0, 0], reason: ["open", "stop_loss"] },
    });
    const markers = liveMarkers(answer);
    expect(markers).toHaveLength(2);
    expect(markers[0]).toMatchObject({ time: MINUTE, side: "buy", price: 2.01, size: 0.5, kind: "fill", reason: "enter_long", text: "buy 0.5" });
    expect(markers[1]).toMatchObject({ time: 2 * MINUTE, side: "sell", price: 3.39, kind: "fill", reason: "stop_loss", text: "stop loss" });
  });

  it("keep trades without a fill (another run's) and fills without a trade yet", () => {
    const answer = chart({
      markers: { time: [0], price: [1], side: ["buy"], reason: ["enter_long"] },
      fills: { time: [2 * MINUTE], price: [3], side: ["sell"], size: [0.25], commission: [0], reason: ["close"] },
    });
    expect(liveMarkers(answer).map((marker) => [marker.kind, marker.text])).toEqual([
      ["trade", "buy"],
      ["fill", "close"],
    ]);
  });

  it("from the stream join the known ones, without replacing a named one", () => {
    const fill = fillMarker({ client_order_id: "x", strategy_id: "s1", symbol: "BTCUSDT", ts: 3 * MINUTE, side: "buy", size: 0.1, price: 4, commission: 0 });
    expect(fill.text).toBe("buy 0.1");
    const named = { ...fill, reason: "enter_long", kind: "fill" as const };
    const known = mergeMarkers([], [named]);
    expect(mergeMarkers(known, [fill])[0].reason).toBe("enter_long");
    const earlier = { ...fill, time: MINUTE };
    expect(mergeMarkers([fill], [earlier]).map((marker) => marker.time)).toEqual([MINUTE, 3 * MINUTE]);
  });

  it("say the side and size of an entry and the reason of an exit", () => {
    expect(markerText({ side: "sell", size: 2, reason: "enter_short" })).toBe("sell 2");
    expect(markerText({ side: "sell", size: null, reason: "take_profit" })).toBe("take profit");
    expect(markerText({ side: "sell", size: null, reason: "signal" })).toBe("exit");
  });
});

describe("price lines", () => {
  const trade = (changes: Partial<TradeLog> = {}): TradeLog => ({
    trade_id: "t1",
    status: "open",
    strategy_id: "s1",
    symbol: "BTCUSDT",
    side: "long",
    size: 0.5,
    entry_time: MINUTE,
    entry_price: 100,
    stop: 98,
    target: 104,
    ...changes,
  });

  it("mark the open position's entry, stop and target", () => {
    expect(priceLines(account(), trade())).toEqual([
      { price: 100, title: "Entry long 0.5", color: LINE_COLORS.entry },
      { price: 98, title: "Stop", color: LINE_COLORS.stop },
      { price: 104, title: "Target", color: LINE_COLORS.target },
    ]);
  });

  it("leave out a stop or target the trade does not have, and draw nothing when flat", () => {
    expect(priceLines(account(), trade({ stop: null, target: undefined })).map((line) => line.title)).toEqual(["Entry long 0.5"]);
    expect(priceLines(null, null)).toEqual([]);
  });

  it("come from the open account and the newest open trade of the symbol", () => {
    const accounts = [account({ symbol: "ETHUSDT" }), account(), account({ strategy_id: "s2" })];
    expect(openAccount(accounts, "s1", "BTCUSDT")).toBe(accounts[1]);
    expect(openAccount([account({ side: "flat", entry_price: null })], "s1", "BTCUSDT")).toBeNull();
    const trades = [trade({ trade_id: "old", entry_time: 0 }), trade({ trade_id: "new", entry_time: 5 }), trade({ trade_id: "eth", symbol: "ETHUSDT", entry_time: 9 }), trade({ trade_id: "closed", status: "closed", entry_time: 10 })];
    expect(openTrade(trades, "BTCUSDT")?.trade_id).toBe("new");
    expect(openTrade([], "BTCUSDT")).toBeNull();
  });
});
