"use client";
// One page of the journal, in the server's order (newest opened first).

import type { ColumnDef } from "@tanstack/react-table";
import { useMemo } from "react";

import { quoteCurrency, withUnit } from "@/components/live/model";
import { DataTable } from "@/components/data-table";
import { Badge } from "@/components/ui";
import { formatMoney, formatPercent, formatPrice, formatQuantity, formatTime, type TimeZoneChoice } from "@/lib/format";
import type { TradeLog } from "@/lib/types";

function tone(value: number | undefined): string {
  return value === undefined ? "" : value > 0 ? "text-emerald-700 dark:text-emerald-400" : value < 0 ? "text-rose-700 dark:text-rose-400" : "";
}

/** A time without its zone, which the column's header names (the table is wide enough without it). */
function bareTime(ms: number | undefined, zone: TimeZoneChoice): string {
  return formatTime(ms, zone, false).replace(/ UTC([+−]\d\d:\d\d)?$/, "");
}

export function TradesTable({ trades, nameOf, zone }: { trades: TradeLog[]; nameOf: (id: string) => string; zone: TimeZoneChoice }) {
  const zoneName = zone === "utc" ? "UTC" : "local";
  const unit = quoteCurrency(trades.map((trade) => trade.symbol));
  const columns = useMemo(
    () =>
      (
        [
          { id: "opened", header: `Opened (${zoneName})`, cell: ({ row }) => bareTime(row.original.entry_time, zone) },
          {
            id: "strategy",
            header: "Strategy",
            cell: ({ row }) => (
              <span className="block max-w-48 truncate" title={nameOf(row.original.strategy_id)}>
                {nameOf(row.original.strategy_id)}
              </span>
            ),
          },
          { id: "symbol", header: "Symbol", cell: ({ row }) => row.original.symbol },
          {
            id: "side",
            header: "Side",
            cell: ({ row }) => <Badge tone={row.original.side === "long" ? "green" : row.original.side === "short" ? "red" : "slate"}>{row.original.side ?? "—"}</Badge>,
          },
          { id: "size", header: "Size", cell: ({ row }) => formatQuantity(row.original.size) },
          { id: "entry", header: "Entry", cell: ({ row }) => formatPrice(row.original.entry_price) },
          {
            id: "closed",
            header: `Closed (${zoneName})`,
            cell: ({ row }) => (row.original.status === "open" ? <Badge tone="sky">open</Badge> : bareTime(row.original.exit_time, zone)),
          },
          { id: "exit", header: "Exit", cell: ({ row }) => formatPrice(row.original.exit_price) },
          { id: "reason", header: "Reason", cell: ({ row }) => row.original.exit_reason?.replaceAll("_", " ") ?? "—" },
          {
            id: "pnl",
            header: unit ? `PnL (${unit})` : "PnL",
            cell: ({ row }) => (
              <span className={tone(row.original.pnl)}>
                {unit ? formatMoney(row.original.pnl, true) : withUnit(formatMoney(row.original.pnl, true), quoteCurrency([row.original.symbol]))}
              </span>
            ),
          },
          {
            id: "return",
            header: "Return",
            cell: ({ row }) => (
              <span className={tone(row.original.return_pct)}>{formatPercent(row.original.return_pct === undefined ? null : row.original.return_pct / 100, true)}</span>
            ),
          },
        ] satisfies ColumnDef<TradeLog, unknown>[]
      ).map((column): ColumnDef<TradeLog, unknown> => ({ ...column, enableSorting: false })),
    [nameOf, zone, zoneName, unit],
  );
  return <DataTable rows={trades} columns={columns} caption="Trades, newest first" rowTestId="trade-row" />;
}
