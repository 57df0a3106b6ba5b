"use client";
// The strategy's trades on the charted symbol, newest first, beside the chart: a click shows the trade's entry.

import Link from "next/link";

import { quoteCurrency, withUnit } from "@/components/live/model";
import { Badge, EmptyState, ErrorNotice, Skeleton } from "@/components/ui";
import { formatMoney, formatPercent, formatPrice, formatQuantity, formatTime, type TimeZoneChoice } from "@/lib/format";
import type { TradeLog } from "@/lib/types";

import { reasonLabel } from "./model";
import type { TradePage } from "./queries";

function pnlClass(value: number | undefined): string {
  return value === undefined ? "" : value > 0 ? "text-emerald-700 dark:text-emerald-400" : value < 0 ? "text-rose-700 dark:text-rose-400" : "";
}

function TradeItem({ trade, zone, onShow }: { trade: TradeLog; zone: TimeZoneChoice; onShow: (ms: number) => void }) {
  const unit = quoteCurrency([trade.symbol]);
  const open = trade.status === "open";
  return (
    <li data-testid="chart-trade" data-status={trade.status}>
      <button
        type="button"
        onClick={() => trade.entry_time !== undefined && onShow(trade.entry_time)}
        className="tabular flex w-full flex-col gap-0.5 px-3 py-2 text-left text-sm hover:bg-slate-50 focus:bg-sky-50 dark:hover:bg-slate-800 dark:focus:bg-slate-800"
      >
        <span className="flex items-center justify-between gap-2">
          <span className="flex items-center gap-1.5">
            <Badge tone={trade.side === "long" ? "green" : trade.side === "short" ? "red" : "slate"}>{trade.side ?? "—"}</Badge>
            {formatQuantity(trade.size)}
          </span>
          {open ? (
            <Badge tone="sky">open</Badge>
          ) : (
            <span className={`font-medium ${pnlClass(trade.pnl)}`}>
              {withUnit(formatMoney(trade.pnl, true), unit)}
              {trade.return_pct !== undefined ? <span className="text-xs font-normal"> ({formatPercent(trade.return_pct / 100, true)})</span> : null}
            </span>
          )}
        </span>
        <span className="text-xs text-slate-600 dark:text-slate-300">
          {formatPrice(trade.entry_price)} → {open ? "…" : formatPrice(trade.exit_price)}
          {!open && trade.exit_reason ? ` · ${reasonLabel(trade.exit_reason)}` : ""}
          {open && (typeof trade.stop === "number" || typeof trade.target === "number")
            ? ` · stop ${formatPrice(trade.stop)} · target ${formatPrice(trade.target)}`
            : ""}
        </span>
        <span className="text-xs text-slate-500 dark:text-slate-400">
          {formatTime(trade.entry_time, zone, false)}
          {!open && trade.exit_time !== undefined ? ` → ${formatTime(trade.exit_time, zone, false).replace(/^\d{4}-\d\d-\d\d /, "")}` : ""}
        </span>
      </button>
    </li>
  );
}

export function TradesPanel({ query, strategyId, symbol, zone, onShow }: {
  query: { data?: TradePage; error: unknown; isPending: boolean };
  strategyId: string;
  symbol: string;
  zone: TimeZoneChoice;
  onShow: (ms: number) => void;
}) {
  if (query.isPending) {
    return (
      <div className="flex flex-col gap-2" aria-hidden>
        {Array.from({ length: 5 }, (_, index) => (
          <Skeleton key={index} className="h-14" />
        ))}
      </div>
    );
  }
  if (query.error) return <ErrorNotice error={query.error} />;
  const page = query.data;
  if (!page || page.items.length === 0) {
    return <EmptyState title="No trades yet">Trades on {symbol} appear here as the strategy opens and closes positions.</EmptyState>;
  }
  return (
    <>
      <ol className="max-h-[30rem] divide-y divide-slate-100 overflow-y-auto rounded-md border border-slate-200 dark:divide-slate-800 dark:border-slate-800" aria-label={`Trades on ${symbol}`}>
        {page.items.map((trade) => (
          <TradeItem key={trade.trade_id} trade={trade} zone={zone} onShow={onShow} />
        ))}
      </ol>
      <p className="mt-2 text-xs text-slate-500 dark:text-slate-400">
        {page.total > page.items.length ? `The newest ${page.items.length} of ${page.total}. ` : `${page.total} ${page.total === 1 ? "trade" : "trades"}. `}
        <Link href={`/trades?strategy=${encodeURIComponent(strategyId)}&symbol=${encodeURIComponent(symbol)}`} className="text-sky-700 underline dark:text-sky-400">
          All in the journal
        </Link>
      </p>
    </>
  );
}
