// Trades as CSV (RFC 4180), built in the browser from what GET /trades answers: one row per trade, times as
// ISO 8601 in UTC (whatever zone the page shows), numbers at full precision without separators.

import type { TradeLog } from "@/lib/types";

export const CSV_COLUMNS = [
  "trade_id",
  "strategy_id",
  "strategy",
  "symbol",
  "timeframe",
  "mode",
  "status",
  "side",
  "size",
  "entry_time",
  "entry_price",
  "entry_commission",
  "exit_time",
  "exit_price",
  "exit_reason",
  "pnl",
  "commission",
  "return_pct",
  "stop",
  "target",
] as const;

/** One cell: quoted when it holds a comma, quote or line break; text a spreadsheet would run as a formula
 * (=, +, -, @ first) is prefixed with an apostrophe. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function isoTime(ms: number | undefined): string {
  return ms === undefined || ms === null || !Number.isFinite(ms) ? "" : new Date(ms).toISOString();
}

export function tradesToCsv(trades: TradeLog[], nameOf: (strategyId: string) => string): string {
  const lines = [CSV_COLUMNS.join(",")];
  for (const trade of trades) {
    const row: Record<(typeof CSV_COLUMNS)[number], unknown> = {
      trade_id: trade.trade_id,
      strategy_id: trade.strategy_id,
      strategy: nameOf(trade.strategy_id),
      symbol: trade.symbol,
      timeframe: trade.timeframe,
      mode: trade.mode,
      status: trade.status,
      side: trade.side,
      size: trade.size,
      entry_time: isoTime(trade.entry_time),
      entry_price: trade.entry_price,
      entry_commission: trade.entry_commission,
      exit_time: isoTime(trade.exit_time),
      exit_price: trade.exit_price,
      exit_reason: trade.exit_reason,
      pnl: trade.pnl,
      commission: trade.commission,
      return_pct: trade.return_pct,
      stop: trade.stop,
      target: trade.target,
    };
    lines.push(CSV_COLUMNS.map((column) => csvCell(row[column])).join(","));
  }
  return `${lines.join("\r\n")}\r\n`;
}

/** A file name for the export: "trades-btcusdt-closed-2026-12-04.csv". */
export function csvFileName(parts: string[], now: Date = new Date()): string {
  const words = parts.filter(Boolean).map((part) => part.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, ""));
  return `${["trades", ...words.filter(Boolean), now.toISOString().slice(0, 10)].join("-")}.csv`;
}
