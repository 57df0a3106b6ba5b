import { type Trade, exitReasonBreakdown, exitReasonLabel, sideBreakdown } from "./breakdown";

const trades: Trade[] = [
  { side: "long", pnl: 100, return_pct: 2, exit_reason: "signal" },
  { side: "long", pnl: -40, return_pct: -1, exit_reason: "stop_loss" },
  { side: "short", pnl: 25, return_pct: 0.5, exit_reason: "signal" },
  { side: "long", pnl: 0, return_pct: 0, exit_reason: "take_profit" },
  { side: "short", pnl: -10, return_pct: -0.25, exit_reason: "stop_loss" },
  { side: "long", pnl: 5, return_pct: 0.1, exit_reason: "signal" },
];

describe("trades broken down", () => {
  it("by side: counts, wins (PnL > 0), win rate and PnL", () => {
    const [all, long, short] = sideBreakdown(trades);
    expect(all).toMatchObject({ label: "All", trades: 6, wins: 3, winRate: 0.5, pnl: 80, share: 1 });
    expect(long).toMatchObject({ trades: 4, wins: 2, winRate: 0.5, pnl: 65, avgPnl: 16.25, avgReturnPct: 0.275 });
    expect(short).toMatchObject({ trades: 2, wins: 1, pnl: 15, avgPnl: 7.5 });
    expect(short.share).toBeCloseTo(1 / 3);
  });

  it("keeps a side without trades, with nothing to average", () => {
    const [, , short] = sideBreakdown([trades[0]]);
    expect(short).toMatchObject({ trades: 0, wins: 0, winRate: null, pnl: 0, avgPnl: null, avgReturnPct: null, share: 0 });
  });

  it("by exit reason, the most frequent first", () => {
    const rows = exitReasonBreakdown(trades);
    expect(rows.map((row) => [row.label, row.trades, row.pnl])).toEqual([
      ["Signal", 3, 130],
      ["Stop loss", 2, -50],
      ["Take profit", 1, 0],
    ]);
    expect(rows[1].winRate).toBe(0);
    expect(rows[0].share).toBe(0.5);
  });

  it("names exit reasons it does not know by their code", () => {
    expect(exitReasonLabel("trailing_stop")).toBe("Trailing stop");
    expect(exitReasonLabel("margin_call")).toBe("margin call");
    expect(exitReasonBreakdown([])).toEqual([]);
  });
});
