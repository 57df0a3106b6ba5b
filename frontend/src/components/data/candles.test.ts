import { candleColumns, findSeries, guessFromFileName, previewStart, summaryCounts } from "./candles";

describe("stored candles", () => {
  it("become the chart's columns", () => {
    const columns = candleColumns([
      { ts: 1000, open: 1, high: 2, low: 0.5, close: 1.5, volume: 3 },
      { ts: 2000, open: 1.5, high: 2.5, low: 1, close: 2, volume: 4 },
    ]);
    expect(columns).toEqual({ t: [1000, 2000], o: [1, 1.5], h: [2, 2.5], l: [0.5, 1], c: [1.5, 2], v: [3, 4] });
  });

  it("of the preview start 499 bars before the last one, not before the first", () => {
    const hour = 3_600_000;
    expect(previewStart({ timeframe: "1h", first_ts: 0, last_ts: 1000 * hour })).toBe(501 * hour);
    expect(previewStart({ timeframe: "1h", first_ts: 900 * hour, last_ts: 1000 * hour })).toBe(900 * hour);
  });

  it("are found by symbol (any case) and timeframe", () => {
    const series = [{ symbol: "BTCUSDT", timeframe: "1h" }, { symbol: "BTCUSDT", timeframe: "1m" }];
    expect(findSeries(series, "btcusdt", "1m")).toBe(series[1]);
    expect(findSeries(series, "ETHUSDT", "1m")).toBeUndefined();
  });

  it("imported are summed up in words", () => {
    expect(summaryCounts({ received: 1440, inserted: 1000, updated: 400, unchanged: 40 })).toBe("1,440 candles read: 1,000 new, 400 updated, 40 unchanged");
  });
});

describe("a file's name", () => {
  it("tells the symbol and timeframe when it names both", () => {
    expect(guessFromFileName("BTCUSDT-1h.csv")).toEqual({ symbol: "BTCUSDT", timeframe: "1h" });
    expect(guessFromFileName("ethusdt_15m_2024.csv")).toEqual({ symbol: "ETHUSDT", timeframe: "15m" });
    expect(guessFromFileName("candles.csv")).toEqual({});
    expect(guessFromFileName("1m-export.csv")).toEqual({ symbol: undefined, timeframe: "1m" });
  });
});
