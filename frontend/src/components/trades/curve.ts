// The realised PnL curve: closed trades' PnL summed over their exit times.

import type { TradeLog } from "@/lib/types";

export interface RealisedCurve {
  /** Exit times (epoch ms), strictly increasing at the second (the chart's resolution). */
  t: number[];
  /** Cumulative realised PnL after the trades that closed by then. */
  values: number[];
  trades: number;
  total: number;
  wins: number;
}

/**
 * The cumulative PnL of the closed trades in ``trades`` (any order; open ones ignored). Trades closing in the
 * same second make one point carrying all of them, since a time-axis chart takes one value per second.
 */
export function realisedCurve(trades: TradeLog[]): RealisedCurve {
  const closed = trades
    .filter((trade) => trade.status === "closed" && Number.isFinite(trade.exit_time) && Number.isFinite(trade.pnl))
    .sort((a, b) => (a.exit_time as number) - (b.exit_time as number));
  const t: number[] = [];
  const values: number[] = [];
  let total = 0;
  let wins = 0;
  for (const trade of closed) {
    total += trade.pnl as number;
    if ((trade.pnl as number) > 0) wins += 1;
    const second = Math.floor((trade.exit_time as number) / 1000) * 1000;
    if (t.length && t[t.length - 1] === second) {
      values[values.length - 1] = total;
    } else {
      t.push(second);
      values.push(total);
    }
  }
  return { t, values, trades: closed.length, total, wins };
}
