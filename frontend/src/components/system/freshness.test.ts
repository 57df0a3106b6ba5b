import { formatAge, freshnessRows, STALE_AFTER_S } from "./freshness";

describe("feed freshness", () => {
  it("ages the API's rows to now and flags those past two minutes, stalest first", () => {
    const rows = freshnessRows(
      [
        { symbol: "BTCUSDT", last_tick: 1_000, age_s: 3 },
        { symbol: "ETHUSDT", last_tick: 500, age_s: STALE_AFTER_S - 10 },
        { symbol: "SOLUSDT", last_tick: null, age_s: null },
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
    expect(freshnessRows([{ symbol: "X", last_tick: 1, age_s: STALE_AFTER_S }], 0, 0)[0].state).toBe("fresh");
  });

  it("shows ages in seconds, then minutes and hours", () => {
    expect(formatAge(4.7)).toBe("4 s");
    expect(formatAge(185)).toBe("3m 5s");
    expect(formatAge(7_800)).toBe("2h 10m");
    expect(formatAge(null)).toBe("—");
  });
});
