import { labelOf, statGroups } from "./stat-groups";

const stats = {
  start: 1704067200000,
  end: 1711238400000,
  duration: 7171200000,
  return_pct: 12.345,
  final_equity: 11234.5,
  peak_equity: 11500,
  buy_hold_return_pct: -3.2,
  exposure_pct: 41.5,
  max_drawdown_pct: -8.75,
  max_drawdown_duration: 3 * 86_400_000 + 4 * 3_600_000,
  sharpe: 1.234,
  sortino: null,
  n_trades: 42,
  win_rate_pct: 45.238,
  total_commission: 51.2,
  brand_new_pct: 1.5,
};

describe("the stats of a run, grouped", () => {
  const groups = statGroups(stats, "USDT");
  const item = (key: string) => groups.flatMap((group) => group.items).find((entry) => entry.key === key);

  it("groups returns, risk and trades, and keeps stats it does not know in Other", () => {
    expect(groups.map((group) => group.title)).toEqual(["Returns", "Risk", "Trades", "Other"]);
    expect(groups[3].items).toEqual([{ key: "brand_new_pct", label: "Brand new (%)", value: "+1.50 %" }]);
    expect(item("start")).toBeUndefined(); // the header shows the range
  });

  it("shows every value with its unit", () => {
    expect(item("return_pct")).toMatchObject({ value: "+12.35 %", tone: "gain" });
    expect(item("buy_hold_return_pct")).toMatchObject({ value: "−3.20 %", tone: "loss" });
    expect(item("final_equity")?.value).toBe("11,234.50 USDT");
    expect(item("total_commission")?.value).toBe("51.20 USDT");
    expect(item("max_drawdown_pct")?.value).toBe("−8.75 %");
    expect(item("max_drawdown_pct")?.tone).toBeUndefined();
    expect(item("max_drawdown_duration")?.value).toBe("3d 4h");
    expect(item("duration")?.value).toBe("83d");
    expect(item("exposure_pct")?.value).toBe("41.50 %");
    expect(item("sharpe")?.value).toBe("1.23");
    expect(item("n_trades")?.value).toBe("42");
    expect(item("win_rate_pct")?.value).toBe("45.24 %");
  });

  it("says a stat is undefined rather than zero", () => {
    expect(item("sortino")).toMatchObject({ value: "—", hint: expect.stringContaining("Not defined") });
    expect(item("calmar")?.value).toBe("—"); // absent
  });

  it("leaves money without a unit when the quote currency is unknown", () => {
    expect(statGroups({ final_equity: 10 }, "")[0].items[1].value).toBe("10.00");
    expect(labelOf("avg_thing")).toBe("Avg thing");
  });
});
