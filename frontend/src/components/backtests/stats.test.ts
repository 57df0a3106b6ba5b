import { bestIndices, formatPct, STAT_ROWS, statOf } from "./stats";

describe("the best value of a stats row", () => {
  it("is the highest where higher is better, ties sharing the mark", () => {
    expect([...bestIndices([12.5, -3, 12.5], "higher")]).toEqual([0, 2]);
    expect([...bestIndices([0.4, 1.9, 1.2], "higher")]).toEqual([1]);
  });

  it("is the lowest where lower is better", () => {
    expect([...bestIndices([30, 12, 18], "lower")]).toEqual([1]);
  });

  it("is the shallowest drawdown: drawdowns are negative percentages, so the highest", () => {
    const drawdown = STAT_ROWS.find((row) => row.key === "max_drawdown_pct");
    expect(drawdown?.better).toBe("higher");
    expect([...bestIndices([-20.1, -5.3, -11], drawdown?.better ?? null)]).toEqual([1]);
  });

  it("leaves missing values out, and marks nothing when fewer than two compete", () => {
    expect([...bestIndices([null, 3, undefined, 7], "higher")]).toEqual([3]);
    expect(bestIndices([null, 3], "higher").size).toBe(0);
    expect(bestIndices([Number.NaN, 3], "lower").size).toBe(0);
  });

  it("marks nothing when every run has the same value, or the row has no better side", () => {
    expect(bestIndices([4, 4, 4], "higher").size).toBe(0);
    expect(bestIndices([3, 10], null).size).toBe(0);
  });

  it("marks higher return, Sharpe and win rate, and lower volatility and commission", () => {
    const better = Object.fromEntries(STAT_ROWS.map((row) => [row.key, row.better]));
    expect(better).toMatchObject({
      return_pct: "higher",
      sharpe: "higher",
      win_rate_pct: "higher",
      volatility_ann_pct: "lower",
      total_commission: "lower",
      n_trades: null,
      final_equity: null,
      exposure_pct: null,
    });
  });
});

describe("a run's stats", () => {
  it("are finite numbers or null (NaN is stored as null, a run not done has none)", () => {
    const run = { stats: { return_pct: 12.3, sharpe: null, sortino: "x" }, n_trades: 4 };
    expect(statOf(run, "return_pct")).toBe(12.3);
    expect(statOf(run, "sharpe")).toBeNull();
    expect(statOf(run, "sortino")).toBeNull();
    expect(statOf(run, "n_trades")).toBe(4);
    expect(statOf({}, "return_pct")).toBeNull();
  });

  it("show percentages signed, with their unit", () => {
    expect(formatPct(12.345)).toBe("+12.35 %");
    expect(formatPct(-3.2)).toBe("−3.20 %");
    expect(formatPct(55, false)).toBe("55.00 %");
    expect(formatPct(null)).toBe("—");
  });
});
