"use client";
// The trades journal: every live trade from the archive, filtered by what the URL says, a page at a time,
// with a CSV export of the whole filter and the realised PnL curve of its closed trades.

import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { Suspense, useMemo } from "react";

import { LineChart } from "@/components/charts/line-chart";
import { quoteCurrency, withUnit } from "@/components/live/model";
import { useStrategies, useStrategyNames } from "@/components/live/queries";
import { realisedCurve } from "@/components/trades/curve";
import { ExportButton } from "@/components/trades/export-button";
import { FilterBar } from "@/components/trades/filter-bar";
import { filtersToSearch, hasFilters, parseFilters, type TradeFilters, tradeQuery } from "@/components/trades/filters";
import { MAX_ROWS, PER_PAGE, useClosedTrades, useTradePage, useTradeUpdates } from "@/components/trades/queries";
import { TradesTable } from "@/components/trades/trades-table";
import { Card, EmptyState, ErrorNotice, PageHeader, Skeleton, Stats, toneOf } from "@/components/ui";
import { formatMoney, formatNumber, formatPercent } from "@/lib/format";
import { useSettings } from "@/lib/settings";

const pagerClass = "rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium dark:border-slate-600";

function Pager({ filters, pages, total, shown }: { filters: TradeFilters; pages: number; total: number; shown: number }) {
  const first = (filters.page - 1) * PER_PAGE + 1;
  const link = (page: number, label: string, rel: "prev" | "next") =>
    page >= 1 && page <= pages ? (
      <Link href={`/trades${filtersToSearch({ ...filters, page })}`} rel={rel} scroll={false} className={`${pagerClass} hover:bg-slate-100 dark:hover:bg-slate-800`}>
        {label}
      </Link>
    ) : (
      <span aria-disabled="true" className={`${pagerClass} cursor-not-allowed opacity-50`}>
        {label}
      </span>
    );
  return (
    <nav aria-label="Pages of trades" className="mt-3 flex flex-wrap items-center justify-between gap-3 text-sm">
      <p data-testid="trade-count" className="text-slate-600 dark:text-slate-400">
        {shown ? `${formatNumber(first, 0)}–${formatNumber(first + shown - 1, 0)} of ${formatNumber(total, 0)} trades` : `${formatNumber(total, 0)} trades`} · page{" "}
        {filters.page} of {Math.max(pages, 1)}
      </p>
      <div className="flex gap-2">
        {link(filters.page - 1, "← Newer", "prev")}
        {link(filters.page + 1, "Older →", "next")}
      </div>
    </nav>
  );
}

function Journal() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const { zone } = useSettings();
  const filters = parseFilters(params);
  const query = tradeQuery(filters, zone);
  const strategies = useStrategies();
  const nameOf = useStrategyNames();
  const page = useTradePage(query, filters.page);
  const curveWanted = filters.status !== "open";
  const closed = useClosedTrades(query, curveWanted);
  useTradeUpdates();

  const curve = useMemo(() => realisedCurve(closed.data?.items ?? []), [closed.data]);
  const symbols = useMemo(
    () => [...new Set((strategies.data ?? []).flatMap((strategy) => (strategy.spec?.symbols as string[] | undefined) ?? []))].sort(),
    [strategies.data],
  );
  const curves = useMemo(() => [{ name: "Realised PnL", t: curve.t, values: curve.values, color: "#2563eb" }], [curve]);

  function go(next: TradeFilters) {
    router.push(`${pathname}${filtersToSearch(next)}`, { scroll: false });
  }

  const data = page.data;
  const pages = data ? Math.ceil(data.total / PER_PAGE) : 0;
  const unit = quoteCurrency(filters.symbol ? [filters.symbol] : symbols);
  const nameParts = [filters.strategy ? nameOf(filters.strategy) : "", filters.symbol, filters.status, filters.from && `from-${filters.from}`, filters.to && `to-${filters.to}`];

  return (
    <>
      <PageHeader
        title="Trades"
        subtitle="Every live trade, as the engine archived it: newest opened first."
        actions={<ExportButton query={query} nameParts={nameParts} nameOf={nameOf} disabled={!data || data.total === 0} />}
      />
      <div className="flex flex-col gap-6">
        <Card>
          <FilterBar filters={filters} strategies={strategies.data ?? []} symbols={symbols} zone={zone} onChange={go} />
        </Card>

        <Card title="Journal">
          {page.isPending ? (
            <Skeleton className="h-64" />
          ) : page.error ? (
            <ErrorNotice error={page.error} />
          ) : data && data.total === 0 ? (
            hasFilters(filters) ? (
              <EmptyState title="No trade matches these filters">
                Widen the range or{" "}
                <Link href="/trades" className="text-sky-700 underline dark:text-sky-400">
                  clear the filters
                </Link>
                .
              </EmptyState>
            ) : (
              <EmptyState title="No trades yet">
                Trades appear here as live strategies open and close positions.{" "}
                <Link href="/live" className="text-sky-700 underline dark:text-sky-400">
                  Start a strategy on paper
                </Link>{" "}
                to make some.
              </EmptyState>
            )
          ) : data && data.items.length === 0 ? (
            <EmptyState title={`There is no page ${filters.page}`}>
              These filters match {formatNumber(data.total, 0)} trades.{" "}
              <Link href={`/trades${filtersToSearch({ ...filters, page: 1 })}`} className="text-sky-700 underline dark:text-sky-400">
                Go to the first page
              </Link>
              .
            </EmptyState>
          ) : data ? (
            <div className={page.isPlaceholderData ? "opacity-60 transition-opacity" : ""} aria-busy={page.isPlaceholderData}>
              <TradesTable trades={data.items} nameOf={nameOf} zone={zone} />
              <Pager filters={filters} pages={pages} total={data.total} shown={data.items.length} />
            </div>
          ) : null}
        </Card>

        <Card title="Realised PnL">
          {!curveWanted ? (
            <EmptyState title="Open trades have realised nothing yet">Choose “Closed” or “Open and closed” to see the curve of closed trades.</EmptyState>
          ) : closed.isPending ? (
            <Skeleton className="h-72" />
          ) : closed.error ? (
            <ErrorNotice error={closed.error} />
          ) : curve.trades === 0 ? (
            <EmptyState title="No closed trade matches these filters">The curve sums closed trades&apos; PnL over their exit times.</EmptyState>
          ) : (
            <div className="flex flex-col gap-4">
              <Stats
                items={[
                  { label: "Closed trades", value: formatNumber(curve.trades, 0) },
                  { label: "Realised PnL", value: withUnit(formatMoney(curve.total, true), unit), tone: toneOf(curve.total) },
                  { label: "Winners", value: formatPercent(curve.wins / curve.trades) },
                  { label: "Average per trade", value: withUnit(formatMoney(curve.total / curve.trades, true), unit), tone: toneOf(curve.total) },
                ]}
              />
              <LineChart curves={curves} height={280} label={`Cumulative realised PnL of ${curve.trades} closed trades over their exit times`} />
              {closed.data?.truncated && (
                <p className="text-xs text-slate-500 dark:text-slate-400">
                  The newest {formatNumber(MAX_ROWS, 0)} of {formatNumber(closed.data.total, 0)} closed trades; narrow the filters to see the rest.
                </p>
              )}
            </div>
          )}
        </Card>
      </div>
    </>
  );
}

export default function TradesPage() {
  return (
    <Suspense fallback={<Skeleton className="h-96" />}>
      <Journal />
    </Suspense>
  );
}
