import { formatAge, freshnessRows, staleAfterS } from "./freshness";

const STALE_AFTER_S = staleAfterS("1m");

describe("feed freshness", () => {
  it("ages the API's rows to now and flags those past two periods of their timeframe, stalest first", () => {
    const rows = freshnessRows(
      [
        { symbol: "BTCUSDT", last_tick: 1_000, age_s: 3, timeframe: "1m", stale: false },
        { symbol: "ETHUSDT", last_tick: 500, age_s: STALE_AFTER_S - 10, timeframe: "1m", stale: false },
        { symbol: "SOLUSDT", last_tick: null, age_s: null, timeframe: "1m", stale: false },
      ],
      10_000,
      25_000,
    );
    expect(rows).toEqual([
      { symbol: "SOLUSDT", lastTick: null, age: null, state: "none" },
      { symbol: "ETHUSDT", lastTick: 500, age: STALE_AFTER_S + 5, state: "stale" },
      { symbol: "BTCUSDT", lastTick: 1_000, age: 18, state: "fresh" },
    ]);
  });

  it("is not stale at exactly the limit", () => {
    expect(freshnessRows([{ symbol: "X", last_tick: 1, age_s: STALE_AFTER_S, timeframe: "1m", stale: false }], 0, 0)[0].state).toBe("fresh");
  });

  it("gives a symbol traded on 1h two hours", () => {
    expect(freshnessRows([{ symbol: "X", last_tick: 1, age_s: 3_600 * 2 - 1, timeframe: "1h", stale: false }], 0, 0)[0].state).toBe("fresh");
    expect(freshnessRows([{ symbol: "X", last_tick: 1, age_s: 3_600 * 2 + 1, timeframe: "1h", stale: true }], 0, 0)[0].state).toBe("stale");
  });

  it("flags a symbol that never ticked once the API does", () => {
    expect(freshnessRows([{ symbol: "X", last_tick: null, age_s: null, timeframe: "1m", stale: true }], 0, 0)[0].state).toBe("stale");
  });

  it("shows ages in seconds, then minutes and hours", () => {
    expect(formatAge(4.7)).toBe("4 s");
    expect(formatAge(185)).toBe("3m 5s");
    expect(formatAge(7_800)).toBe("2h 10m");
    expect(formatAge(null)).toBe("—");
  });
});
