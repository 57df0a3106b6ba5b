import type { TradeLog } from "@/lib/types";

import { CSV_COLUMNS, csvCell, csvFileName, tradesToCsv } from "./csv";

const closed: TradeLog = {
  trade_id: "s1:BTCUSDT:1704071400000",
  rev: 1,
  status: "closed",
  strategy_id: "s1",
  symbol: "BTCUSDT",
  timeframe: "1m",
  mode: "paper",
  side: "long",
  size: 0.0417,
  entry_time: Date.UTC(2024, 0, 1, 1, 10),
  entry_price: 59767.87631643465,
  entry_commission: 2.49,
  exit_time: Date.UTC(2024, 0, 1, 1, 26),
  exit_price: 59700.5,
  exit_reason: "signal",
  pnl: -5.144917231553692,
  commission: 4.98,
  return_pct: -0.2,
  stop: null,
  target: null,
};

const open: TradeLog = { trade_id: "s2:ETHUSDT:1", status: "open", strategy_id: "s2", symbol: "ETHUSDT", side: "short", size: 1.5, entry_time: 0, entry_price: 2500 };

describe("trades as CSV", () => {
  it("has a header and one row per trade, times in UTC ISO 8601, numbers unformatted", () => {
    const text = tradesToCsv([closed, open], (id) => (id === "s1" ? "SMA cross" : "Mean reversion, fast"));
    const lines = text.split("\r\n");
    expect(lines).toHaveLength(4); // header, two rows, and the final line break
    expect(lines[0]).toBe(CSV_COLUMNS.join(","));
    expect(lines[1]).toBe(
      "s1:BTCUSDT:1704071400000,s1,SMA cross,BTCUSDT,1m,paper,closed,long,0.0417,2024-01-01T01:10:00.000Z,59767.87631643465,2.49," +
        "2024-01-01T01:26:00.000Z,59700.5,signal,-5.144917231553692,4.98,-0.2,,",
    );
    expect(lines[2]).toBe('s2:ETHUSDT:1,s2,"Mean reversion, fast",ETHUSDT,,,open,short,1.5,1970-01-01T00:00:00.000Z,2500,,,,,,,,,');
    expect(lines[3]).toBe("");
  });

  it("quotes what needs quoting and defuses spreadsheet formulas", () => {
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("two\nlines")).toBe('"two\nlines"');
    expect(csvCell("=HYPERLINK(1)")).toBe("'=HYPERLINK(1)");
    expect(csvCell("-5")).toBe("'-5");
    expect(csvCell(-5)).toBe("-5");
    expect(csvCell(Number.NaN)).toBe("");
    expect(csvCell(undefined)).toBe("");
  });

  it("names the file after the filters and the day", () => {
    expect(csvFileName(["SMA cross 10/20", "BTCUSDT", "closed", ""], new Date(Date.UTC(2026, 11, 4)))).toBe("trades-sma-cross-10-20-btcusdt-closed-2026-12-04.csv");
    expect(csvFileName([], new Date(Date.UTC(2026, 0, 2)))).toBe("trades-2026-01-02.csv");
  });
});
