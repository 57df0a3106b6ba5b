// Closed trades broken down by side (long, short) and by exit reason: how many, how many won, and the PnL.

import type { Schemas } from "@/lib/types";

export type Trade = Schemas["Trade"];

export interface BreakdownRow {
  key: string;
  label: string;
  trades: number;
  wins: number;
  /** Winners over trades, as a fraction; null without trades. */
  winRate: number | null;
  /** Summed PnL, in the quote currency (net of commission). */
  pnl: number;
  /** PnL per trade; null without trades. */
  avgPnl: number | null;
  /** Mean return per trade, in percent; null without trades. */
  avgReturnPct: number | null;
  /** This row's share of all the trades broken down, as a fraction. */
  share: number;
}

export const EXIT_REASON_LABELS: Record<string, string> = {
  signal: "Signal",
  stop_loss: "Stop loss",
  take_profit: "Take profit",
  trailing_stop: "Trailing stop",
  reversal: "Reversal",
  end: "Open at the end",
  limit: "Loss limit",
};

export function exitReasonLabel(reason: string | undefined): string {
  if (!reason) return "—";
  return EXIT_REASON_LABELS[reason] ?? reason.replaceAll("_", " ");
}

function row(key: string, label: string, trades: Trade[], total: number): BreakdownRow {
  let wins = 0;
  let pnl = 0;
  let returns = 0;
  let counted = 0;
  for (const trade of trades) {
    const value = trade.pnl ?? 0;
    if (value > 0) wins += 1; // a winner has PnL > 0, as the stats count it
    pnl += Number.isFinite(value) ? value : 0;
    if (typeof trade.return_pct === "number" && Number.isFinite(trade.return_pct)) {
      returns += trade.return_pct;
      counted += 1;
    }
  }
  const n = trades.length;
  return {
    key,
    label,
    trades: n,
    wins,
    winRate: n ? wins / n : null,
    pnl,
    avgPnl: n ? pnl / n : null,
    avgReturnPct: counted ? returns / counted : null,
    share: total ? n / total : 0,
  };
}

/** All trades, the long ones and the short ones (a side without trades still has its row, with zeros). */
export function sideBreakdown(trades: Trade[]): BreakdownRow[] {
  const long = trades.filter((trade) => trade.side === "long");
  const short = trades.filter((trade) => trade.side === "short");
  return [row("all", "All", trades, trades.length), row("long", "Long", long, trades.length), row("short", "Short", short, trades.length)];
}

/** One row per exit reason that occurred, the most frequent first (ties in the order of EXIT_REASON_LABELS). */
export function exitReasonBreakdown(trades: Trade[]): BreakdownRow[] {
  const byReason = new Map<string, Trade[]>();
  for (const trade of trades) {
    const reason = trade.exit_reason ?? "unknown";
    const list = byReason.get(reason);
    if (list) list.push(trade);
    else byReason.set(reason, [trade]);
  }
  const order = Object.keys(EXIT_REASON_LABELS);
  const rank = (reason: string) => (order.includes(reason) ? order.indexOf(reason) : order.length);
  return [...byReason.entries()]
    .map(([reason, list]) => row(reason, exitReasonLabel(reason), list, trades.length))
    .sort((a, b) => b.trades - a.trades || rank(a.key) - rank(b.key) || a.key.localeCompare(b.key));
}
