"use client";
// Every active strategy's account per symbol, marked at the last price (re-priced as candles close).

import type { ColumnDef } from "@tanstack/react-table";
import { useMemo } from "react";

import { DataTable } from "@/components/data-table";
import { Badge, EmptyState } from "@/components/ui";
import { formatMoney, formatPrice, formatQuantity, formatTime, type TimeZoneChoice } from "@/lib/format";
import type { Account } from "@/lib/types";

import { quoteCurrency, withUnit } from "./model";

function pnlClass(value: number): string {
  return value > 0 ? "text-emerald-700 dark:text-emerald-400" : value < 0 ? "text-rose-700 dark:text-rose-400" : "";
}

/** The "show flat accounts" switch, for the card's header. */
export function FlatToggle({ accounts, showFlat, onChange }: { accounts: Account[]; showFlat: boolean; onChange: (show: boolean) => void }) {
  const flat = accounts.filter((account) => account.side === "flat").length;
  return (
    <label className="flex items-center gap-2 text-sm font-normal">
      <input type="checkbox" checked={showFlat} onChange={(event) => onChange(event.target.checked)} />
      Show flat accounts ({flat})
    </label>
  );
}

export function PositionsTable({ accounts, nameOf, zone, showFlat }: {
  accounts: Account[];
  nameOf: (id: string) => string;
  zone: TimeZoneChoice;
  showFlat: boolean;
}) {
  const open = accounts.filter((account) => account.side !== "flat");
  const rows = showFlat ? accounts : open;
  const columns = useMemo<ColumnDef<Account, unknown>[]>(
    () => [
      { id: "strategy", header: "Strategy", accessorFn: (row) => nameOf(row.strategy_id) },
      { accessorKey: "symbol", header: "Symbol" },
      {
        accessorKey: "side",
        header: "Side",
        cell: ({ row }) => <Badge tone={row.original.side === "long" ? "green" : row.original.side === "short" ? "red" : "slate"}>{row.original.side}</Badge>,
      },
      { accessorKey: "size", header: "Size", cell: ({ row }) => (row.original.side === "flat" ? "—" : formatQuantity(row.original.size)) },
      { accessorKey: "entry_price", header: "Entry", cell: ({ row }) => formatPrice(row.original.entry_price) },
      { accessorKey: "entry_time", header: "Entered", cell: ({ row }) => formatTime(row.original.entry_time, zone, false) },
      { accessorKey: "price", header: "Last price", cell: ({ row }) => <span data-testid="position-price">{formatPrice(row.original.price)}</span> },
      {
        accessorKey: "unrealised_pnl",
        header: "Unrealised PnL",
        cell: ({ row }) => (
          <span className={pnlClass(row.original.unrealised_pnl)} data-testid="position-pnl">
            {withUnit(formatMoney(row.original.unrealised_pnl, true), quoteCurrency([row.original.symbol]))}
          </span>
        ),
      },
      { accessorKey: "equity", header: "Equity", cell: ({ row }) => withUnit(formatMoney(row.original.equity), quoteCurrency([row.original.symbol])) },
    ],
    [nameOf, zone],
  );
  if (accounts.length === 0) {
    return (
      <EmptyState title="No accounts yet">Start a strategy above: each of its symbols gets an account, listed here with its position.</EmptyState>
    );
  }
  return (
    <>
      {rows.length === 0 ? (
        <p className="rounded-md border border-dashed border-slate-300 p-4 text-center text-sm text-slate-600 dark:border-slate-700 dark:text-slate-400" data-testid="no-positions">
          Every account is flat: positions appear here when a strategy&apos;s order fills.
        </p>
      ) : (
        <DataTable rows={rows} columns={columns} caption="Positions" rowTestId="position-row" />
      )}
    </>
  );
}
