// A backtest's stats (strategies/stats.py) as the UI shows them: which ones, with which unit, and which way is better.

import { formatDuration, formatMoney, formatNumber } from "@/lib/format";
import type { BacktestSummary } from "@/lib/types";

/** Which value of a row wins: the highest, the lowest, or none (a count, an exposure: neither is better). */
export type Better = "higher" | "lower" | null;

export interface StatDefinition {
  key: string;
  label: string;
  better: Better;
  format: (value: number) => string;
}

/** A value that is already a percentage (12.3 means 12.3 %), signed. */
export function formatPct(value: number | null | undefined, signed = true): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const sign = value < 0 ? "−" : signed && value > 0 ? "+" : "";
  return `${sign}${formatNumber(Math.abs(value), 2)} %`;
}

const pct = (value: number) => formatPct(value);
const ratio = (value: number) => formatNumber(value, 2);

/**
 * The rows of the comparison, in the order a reader looks for them. Drawdowns are stored as
 * negative percentages (−12.3 means 12.3 % under the peak): the highest, the nearest to zero, is best.
 */
export const STAT_ROWS: StatDefinition[] = [
  { key: "return_pct", label: "Return", better: "higher", format: pct },
  // Final equity follows the starting cash, which may differ: the return compares runs, not this.
  { key: "final_equity", label: "Final equity", better: null, format: (value) => formatMoney(value) },
  { key: "return_ann_pct", label: "Annual return", better: "higher", format: pct },
  { key: "cagr_pct", label: "CAGR", better: "higher", format: pct },
  { key: "buy_hold_return_pct", label: "Buy & hold return", better: null, format: pct },
  { key: "sharpe", label: "Sharpe ratio", better: "higher", format: ratio },
  { key: "sortino", label: "Sortino ratio", better: "higher", format: ratio },
  { key: "calmar", label: "Calmar ratio", better: "higher", format: ratio },
  { key: "volatility_ann_pct", label: "Annual volatility", better: "lower", format: (value) => formatPct(value, false) },
  { key: "max_drawdown_pct", label: "Max drawdown", better: "higher", format: pct },
  { key: "avg_drawdown_pct", label: "Average drawdown", better: "higher", format: pct },
  { key: "max_drawdown_duration", label: "Longest drawdown", better: "lower", format: (value) => formatDuration(value) },
  { key: "n_trades", label: "Trades", better: null, format: (value) => formatNumber(value, 0) },
  { key: "win_rate_pct", label: "Win rate", better: "higher", format: (value) => formatPct(value, false) },
  { key: "profit_factor", label: "Profit factor", better: "higher", format: ratio },
  { key: "expectancy_pct", label: "Expectancy per trade", better: "higher", format: pct },
  { key: "avg_trade_pct", label: "Average trade", better: "higher", format: pct },
  { key: "best_trade_pct", label: "Best trade", better: "higher", format: pct },
  { key: "worst_trade_pct", label: "Worst trade", better: "higher", format: pct },
  { key: "avg_holding_time", label: "Average holding time", better: null, format: (value) => formatDuration(value) },
  { key: "exposure_pct", label: "Exposure", better: null, format: (value) => formatPct(value, false) },
  { key: "total_commission", label: "Commission paid", better: "lower", format: (value) => formatMoney(value) },
];

/** A stat of a run as a finite number, or null (not done yet, undefined for this run: no trades, one day). */
export function statOf(run: Pick<BacktestSummary, "stats" | "n_trades"> | undefined, key: string): number | null {
  const value = run?.stats?.[key];
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (key === "n_trades" && typeof run?.n_trades === "number") return run.n_trades;
  return null;
}

/**
 * The indices of the best values of a row. Values that are missing do not compete; nothing is marked
 * when fewer than two values compete, or when they are all equal (no run is better). Ties share the mark.
 */
export function bestIndices(values: (number | null | undefined)[], better: Better): Set<number> {
  const best = new Set<number>();
  if (!better) return best;
  const competing = values.flatMap((value, index) => (typeof value === "number" && Number.isFinite(value) ? [{ value, index }] : []));
  if (competing.length < 2) return best;
  const extreme = better === "higher" ? Math.max(...competing.map((item) => item.value)) : Math.min(...competing.map((item) => item.value));
  if (competing.every((item) => item.value === extreme)) return best;
  for (const item of competing) if (item.value === extreme) best.add(item.index);
  return best;
}
