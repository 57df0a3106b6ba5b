import type { Trade } from "./breakdown";
import { backtestCsvName, backtestTradesCsv, TRADE_CSV_COLUMNS } from "./csv";

const closed: Trade = {
  side: "long",
  size: 0.0417,
  entry_time: Date.UTC(2024, 0, 1, 10),
  entry_price: 42000.5,
  exit_time: Date.UTC(2024, 0, 2, 4),
  exit_price: 42500.25,
  pnl: 19.123456789,
  return_pct: 1.19,
  commission: 3.5,
  exit_reason: "take_profit",
  is_open: false,
  entry_bar: 10,
  exit_bar: 28,
  duration_ms: 64_800_000,
};
const open: Trade = { ...closed, side: "short", exit_reason: "end", pnl: -2.5, is_open: true };

describe("a backtest's trades as CSV", () => {
  it("has a header, then a numbered row per closed trade and the open ones last", () => {
    const lines = backtestTradesCsv([closed, { ...closed, pnl: -1 }], [open]).split("\r\n");
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe(TRADE_CSV_COLUMNS.join(","));
    expect(lines[1]).toBe("1,long,0.0417,2024-01-01T10:00:00.000Z,42000.5,2024-01-02T04:00:00.000Z,42500.25,take_profit,19.123456789,1.19,3.5,64800000,10,28,false");
    expect(lines[2].split(",")[8]).toBe("-1");
    expect(lines[3].startsWith("3,short,")).toBe(true);
    expect(lines[3].endsWith(",true")).toBe(true);
    expect(lines[4]).toBe("");
  });

  it("leaves missing values empty", () => {
    const [, row] = backtestTradesCsv([{ side: "long" }]).split("\r\n");
    expect(row).toBe("1,long,,,,,,,,,,,,,false");
  });

  it("is named after the run", () => {
    expect(backtestCsvName({ id: "6650c3e2f1a4b2c3d4e5f6a1", strategy_name: "SMA cross 10/20", symbol: "BTCUSDT", timeframe: "1h" })).toBe(
      "backtest-sma-cross-10-20-btcusdt-1h-6650c3e2-trades.csv",
    );
    expect(backtestCsvName({})).toBe("backtest-trades.csv");
  });
});
