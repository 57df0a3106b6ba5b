// A backtest's trades as CSV (RFC 4180), built in the browser from the pages of GET /backtests/{id}/trades:
// one row per trade, numbered in order, times as ISO 8601 in UTC, numbers at full precision.

import { csvCell } from "@/components/trades/csv";

import type { Trade } from "./breakdown";

export const TRADE_CSV_COLUMNS = [
  "number",
  "side",
  "size",
  "entry_time",
  "entry_price",
  "exit_time",
  "exit_price",
  "exit_reason",
  "pnl",
  "return_pct",
  "commission",
  "duration_ms",
  "entry_bar",
  "exit_bar",
  "is_open",
] as const;

function isoTime(ms: number | undefined | null): string {
  return typeof ms === "number" && Number.isFinite(ms) ? new Date(ms).toISOString() : "";
}

/**
 * The CSV of ``closed`` trades (numbered 1, 2, ...) followed by ``open`` ones (held at the end: their exit is
 * the mark at the last close, ``is_open`` says so). CRLF line ends, a header first.
 */
export function backtestTradesCsv(closed: Trade[], open: Trade[] = []): string {
  const lines: string[] = [TRADE_CSV_COLUMNS.join(",")];
  [...closed.map((trade) => ({ ...trade, is_open: false })), ...open.map((trade) => ({ ...trade, is_open: true }))].forEach((trade, index) => {
    const row: Record<(typeof TRADE_CSV_COLUMNS)[number], unknown> = {
      number: index + 1,
      side: trade.side,
      size: trade.size,
      entry_time: isoTime(trade.entry_time),
      entry_price: trade.entry_price,
      exit_time: isoTime(trade.exit_time),
      exit_price: trade.exit_price,
      exit_reason: trade.exit_reason,
      pnl: trade.pnl,
      return_pct: trade.return_pct,
      commission: trade.commission,
      duration_ms: trade.duration_ms,
      entry_bar: trade.entry_bar,
      exit_bar: trade.exit_bar,
      is_open: trade.is_open ? "true" : "false",
    };
    lines.push(TRADE_CSV_COLUMNS.map((column) => csvCell(row[column])).join(","));
  });
  return `${lines.join("\r\n")}\r\n`;
}

/** "backtest-sma-cross-10-20-btcusdt-1h-6650c3e2-trades.csv": what, where, and which run. */
export function backtestCsvName(run: { id?: string; strategy_name?: string; symbol?: string; timeframe?: string }): string {
  const words = [run.strategy_name, run.symbol, run.timeframe, run.id?.slice(0, 8)]
    .filter((part): part is string => Boolean(part))
    .map((part) => part.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, ""))
    .filter(Boolean);
  return `${["backtest", ...words, "trades"].join("-")}.csv`;
}
