import type { TradeLog } from "@/lib/types";

import { realisedCurve } from "./curve";

function trade(exit: number | undefined, pnl: number | undefined, status: "open" | "closed" = "closed"): TradeLog {
  return { trade_id: `t${exit}`, status, strategy_id: "s1", symbol: "BTCUSDT", exit_time: exit, pnl };
}

describe("the realised PnL curve", () => {
  it("sums closed trades' PnL in exit order, whatever order they come in", () => {
    const curve = realisedCurve([trade(3_000, -2), trade(1_000, 10), trade(2_000, 5)]);
    expect(curve.t).toEqual([1_000, 2_000, 3_000]);
    expect(curve.values).toEqual([10, 15, 13]);
    expect(curve).toMatchObject({ trades: 3, total: 13, wins: 2 });
  });

  it("makes one point of the trades closing in the same second", () => {
    const curve = realisedCurve([trade(60_000, 1), trade(60_400, 2), trade(61_000, 4)]);
    expect(curve.t).toEqual([60_000, 61_000]);
    expect(curve.values).toEqual([3, 7]);
    expect(curve.trades).toBe(3);
  });

  it("leaves out open trades and records without an exit or PnL", () => {
    const curve = realisedCurve([trade(undefined, undefined, "open"), trade(5_000, undefined), trade(undefined, 3)]);
    expect(curve).toEqual({ t: [], values: [], trades: 0, total: 0, wins: 0 });
  });
});
