"use client";
// The candles the run traded on, with its indicators in their panes and its trades as markers, and the trades
// table under them: clicking a trade (or Enter on it) centres the chart on it.

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { memo, useCallback, useEffect, useMemo, useRef, useState } from "react";

import { formatPct } from "@/components/backtests/stats";
import { CandleChart, type CandleChartHandle, type CandleColumns } from "@/components/charts/candle-chart";
import { DataTable } from "@/components/data-table";
import { withUnit } from "@/components/live/model";
import { Badge, Button, Card, EmptyState, ErrorNotice, inputClass, Skeleton } from "@/components/ui";
import { formatDuration, formatMoney, formatNumber, formatPrice, formatQuantity, formatTime } from "@/lib/format";
import { useSettings } from "@/lib/settings";
import type { Backtest } from "@/lib/types";

import type { AllTrades } from "./all-trades";
import { exitReasonLabel, type Trade } from "./breakdown";
import { chartHeight, chartMarkers, countBetween, covers, DETAIL_CHOICES, LABELLED_MARKERS, indicatorLegend, indicatorSeries, maxBarsFromSearch, tradeCentre } from "./chart-data";
import { ExportTradesButton } from "./export-button";
import { type ChartRange, chartQuery, chartRequests, fetchTradesPage, TRADES_PER_PAGE, tradesPageKey } from "./queries";

const TIMEFRAME_MS: Record<string, number> = { "1m": 60_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000, "1h": 3_600_000, "4h": 14_400_000, "1d": 86_400_000 };

interface Selected {
  number: number;
  trade: Trade;
}

/** ``onDrawn``: told once the candles are first drawn (or cannot be), so what lies below can start its own work. */
export function PriceSection({ run, quote, allTrades, onDrawn }: { run: Backtest; quote: string; allTrades: AllTrades; onDrawn?: () => void }) {
  const id = run.id ?? "";
  const { zone } = useSettings();
  const router = useRouter();
  const pathname = usePathname();
  const search = useSearchParams();
  const maxBars = maxBarsFromSearch(search.get("bars"));
  const [range, setRange] = useState<ChartRange | null>(null);
  const [selected, setSelected] = useState<Selected | null>(null);
  const chartRef = useRef<CandleChartHandle>(null);
  const frame = useRef<HTMLDivElement>(null);
  const visible = useRef<{ from: number; to: number } | null>(null);
  const pendingFocus = useRef<number | null>(null);
  const drawnOnce = useRef(false);
  // The trades table waits for the first draw: its rows are not what a big chart should share the browser with.
  const [firstDrawn, setFirstDrawn] = useState(false);

  const chartOptions = chartQuery(id, range, maxBars);
  const key = chartOptions.queryKey;
  const chart = useQuery({ ...chartOptions, placeholderData: keepPreviousData });

  const data = chart.data;
  const candles = useMemo<CandleColumns>(
    () => ({ t: data?.candles.t ?? [], o: data?.candles.o ?? [], h: data?.candles.h ?? [], l: data?.candles.l ?? [], c: data?.candles.c ?? [], v: data?.candles.v ?? [] }),
    [data],
  );
  const indicators = useMemo(() => indicatorSeries(data?.indicators), [data]);
  // Named markers only when the view holds few of them (zoomed in, or a run with few trades).
  const [labelled, setLabelled] = useState(false);
  const markers = useMemo(() => chartMarkers(data?.markers, labelled), [data, labelled]);
  const legend = useMemo(() => indicatorLegend(data?.indicators), [data]);
  const height = chartHeight(data?.indicators);

  // When the data came, and (once drawn, in the animation frame after lightweight-charts' own) how long
  // it took: the page's draw time, exposed for bench/ui.py and the browser tests.
  const arrived = useRef<{ data: unknown; at: number } | null>(null);
  if (data && arrived.current?.data !== data) arrived.current = { data, at: performance.now() };
  useEffect(() => {
    const element = frame.current;
    if (!data || !element) return;
    const started = arrived.current?.at ?? performance.now();
    const asked = chartRequests.get(JSON.stringify(key));
    const handle = requestAnimationFrame(() => {
      const now = performance.now();
      element.dataset.drawMs = String(Math.round(now - started));
      if (asked !== undefined) {
        element.dataset.loadMs = String(Math.round(now - asked));
        chartRequests.delete(JSON.stringify(key));
      }
      element.dataset.drawn = String(candles.t.length);
      element.dataset.drawnAtMs = String(Math.round(now)); // since the page's navigation began
      if (!drawnOnce.current) {
        drawnOnce.current = true;
        setFirstDrawn(true);
        onDrawn?.();
      }
      // A trade picked outside the range shown: centred once the whole run is drawn.
      if (pendingFocus.current !== null && covers(data, pendingFocus.current)) {
        chartRef.current?.focus(pendingFocus.current);
        pendingFocus.current = null;
      }
    });
    return () => cancelAnimationFrame(handle);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [data]);

  const failed = Boolean(chart.error) || (chart.isSuccess && !data?.candles.t?.length);
  useEffect(() => {
    if (failed && !drawnOnce.current) {
      drawnOnce.current = true;
      setFirstDrawn(true);
      onDrawn?.();
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [failed]);

  function onVisibleRange(next: { from: number; to: number } | null) {
    visible.current = next;
    if (next) setLabelled(countBetween(shown.current.data?.markers.time, next.from, next.to) <= LABELLED_MARKERS);
    const element = frame.current;
    if (!element) return;
    element.dataset.visibleFrom = next ? String(next.from) : "";
    element.dataset.visibleTo = next ? String(next.to) : "";
  }

  function setDetail(bars: number) {
    const next = new URLSearchParams(search.toString());
    if (bars === DETAIL_CHOICES[0]) next.delete("bars");
    else next.set("bars", String(bars));
    const query = next.toString();
    router.replace(query ? `${pathname}?${query}` : pathname, { scroll: false });
  }

  function zoomToVisible() {
    const shown = visible.current;
    if (!shown || !data) return;
    setRange({ start: shown.from, end: shown.to + data.period_ms });
  }

  // Stable, so the trades table does not draw again when the chart's data comes.
  const shown = useRef({ range, data });
  shown.current = { range, data };
  const select = useCallback((trade: Trade, number: number) => {
    const centre = tradeCentre(trade);
    setSelected({ number, trade });
    if (centre === null) return;
    if (shown.current.range && !covers(shown.current.data, centre)) {
      pendingFocus.current = centre;
      setRange(null);
    } else {
      chartRef.current?.focus(centre);
    }
    frame.current?.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }, []);

  const timeframeMs = TIMEFRAME_MS[run.timeframe ?? ""] ?? 0;
  const merged = data ? data.bars > (data.candles.t?.length ?? 0) : false;

  const bars = run.bars ?? data?.bars ?? 0;

  return (
    <>
      <Card
        title="Price, indicators and trades"
        className="mb-6"
        actions={
          <div className="flex flex-wrap items-center gap-2">
            {bars > DETAIL_CHOICES[0] && (
              <>
                <label htmlFor="chart-detail" className="text-xs font-medium text-slate-600 dark:text-slate-400">
                  Chart detail
                </label>
                <select id="chart-detail" className={`${inputClass} py-1`} value={maxBars} onChange={(event) => setDetail(Number(event.target.value))}>
                  {DETAIL_CHOICES.map((choice) => (
                    <option key={choice} value={choice}>
                      up to {formatNumber(choice, 0)} candles
                    </option>
                  ))}
                </select>
              </>
            )}
            {merged && !range && (
              <Button onClick={zoomToVisible} title="Load the range on screen bar by bar (up to the candles chosen)">
                Full detail of this view
              </Button>
            )}
            {range && <Button onClick={() => setRange(null)}>Whole run</Button>}
          </div>
        }
      >
        {chart.isPending ? (
          <Skeleton className="h-[440px]" />
        ) : chart.error ? (
          <ErrorNotice error={chart.error} />
        ) : data && data.candles.t?.length ? (
          <>
            <p className="mb-2 text-xs text-slate-600 dark:text-slate-400" data-testid="chart-detail-text">
              {merged
                ? `${formatNumber(data.candles.t.length, 0)} candles of ${formatDuration(data.period_ms)}, each merging ${formatNumber(data.period_ms / (timeframeMs || data.period_ms), 0)} bars of ${run.timeframe} (${formatNumber(data.bars, 0)} bars ${range ? "in this range" : "in the run"}). Zoom in, then load the view in full detail.`
                : `${formatNumber(data.candles.t.length, 0)} bars of ${run.timeframe}${range ? ", the range zoomed in on" : ""}.`}{" "}
              {formatNumber(data.markers.time?.length ?? 0, 0)} trade markers: ▲ buy (a long entry or a short exit), ▼ sell.
              {chart.isFetching && <span role="status"> Loading…</span>}
            </p>
            <div
              ref={frame}
              data-testid="result-chart"
              data-candles={data.candles.t.length}
              data-bars={data.bars}
              data-period-ms={data.period_ms}
              data-markers={markers.length}
              className="scroll-mt-4"
            >
              <CandleChart
                ref={chartRef}
                candles={candles}
                indicators={indicators}
                markers={markers}
                height={height}
                onVisibleRangeChange={onVisibleRange}
                label={`Candles of ${run.symbol} ${run.timeframe}${legend.length ? ` with ${legend.map((item) => item.label.split(" · ")[0]).join(", ")}` : ""} and ${markers.length} trade markers`}
              />
            </div>
            {legend.length > 0 && (
              <ul className="mt-2 flex flex-wrap gap-x-5 gap-y-1 text-xs" aria-label="Indicators" data-testid="indicator-legend">
                {legend.map((item) => (
                  <li key={item.label} className="flex items-center gap-2">
                    <span aria-hidden className="inline-block w-4" style={{ backgroundColor: item.color, height: 3 }} />
                    {item.label}
                    {item.pane === "separate" && <span className="text-slate-500 dark:text-slate-400">(own pane)</span>}
                  </li>
                ))}
              </ul>
            )}
          </>
        ) : (
          <EmptyState title="No candles to draw">The candles this run traded on are no longer stored. Import them again to see the chart.</EmptyState>
        )}
        {selected && (
          <p className="mt-3 rounded-md bg-sky-50 px-3 py-2 text-sm dark:bg-sky-950" role="status" data-testid="centred-trade">
            Centred on trade #{selected.number}: {selected.trade.side} {formatQuantity(selected.trade.size)} from {formatTime(selected.trade.entry_time, zone, false)} at{" "}
            {formatPrice(selected.trade.entry_price)} to {formatTime(selected.trade.exit_time, zone, false)} at {formatPrice(selected.trade.exit_price)},{" "}
            {withUnit(formatMoney(selected.trade.pnl, true), quote)} ({exitReasonLabel(selected.trade.exit_reason).toLowerCase()}).
          </p>
        )}
      </Card>

      {firstDrawn ? (
        <TradesCard run={run} quote={quote} allTrades={allTrades} selected={selected?.number ?? null} onSelect={select} />
      ) : (
        <Skeleton className="mb-6 h-96" />
      )}
    </>
  );
}

/** A page of the run's closed trades (read page by page); a row clicked, or Enter on it, is ``onSelect``ed. */
const TradesCard = memo(function TradesCard({ run, quote, allTrades, selected, onSelect }: {
  run: Backtest;
  quote: string;
  allTrades: AllTrades;
  selected: number | null;
  onSelect: (trade: Trade, number: number) => void;
}) {
  const id = run.id ?? "";
  const { zone } = useSettings();
  const [page, setPage] = useState(1);
  const trades = useQuery({
    queryKey: tradesPageKey(id, page),
    queryFn: () => fetchTradesPage(id, page),
    staleTime: Infinity,
    placeholderData: keepPreviousData,
  });
  const totalTrades = run.n_trades ?? 0;
  const pages = Math.max(1, Math.ceil(totalTrades / TRADES_PER_PAGE));
  const first = (page - 1) * TRADES_PER_PAGE;

  const columns = useMemo<ColumnDef<Trade, unknown>[]>(
    () => [
      {
        id: "number",
        header: "#",
        enableSorting: false,
        cell: ({ row }) => {
          const number = first + row.index + 1;
          return (
            <span className="text-slate-500 dark:text-slate-400">
              {selected === number ? <span className="text-sky-700 dark:text-sky-400" aria-label="centred on the chart">▶ </span> : null}
              {number}
            </span>
          );
        },
      },
      {
        id: "side",
        header: "Side",
        enableSorting: false,
        cell: ({ row }) => <Badge tone={row.original.side === "long" ? "green" : "red"}>{row.original.side ?? "—"}</Badge>,
      },
      { id: "entry", header: "Entry", enableSorting: false, cell: ({ row }) => formatTime(row.original.entry_time, zone, false) },
      { id: "entry_price", header: "Entry price", enableSorting: false, cell: ({ row }) => formatPrice(row.original.entry_price) },
      { id: "exit", header: "Exit", enableSorting: false, cell: ({ row }) => formatTime(row.original.exit_time, zone, false) },
      { id: "exit_price", header: "Exit price", enableSorting: false, cell: ({ row }) => formatPrice(row.original.exit_price) },
      { id: "size", header: "Size", enableSorting: false, cell: ({ row }) => formatQuantity(row.original.size) },
      {
        id: "pnl",
        header: `PnL${quote ? ` (${quote})` : ""}`,
        enableSorting: false,
        cell: ({ row }) => {
          const pnl = row.original.pnl;
          return <span className={pnl && pnl > 0 ? "text-emerald-700 dark:text-emerald-400" : pnl && pnl < 0 ? "text-rose-700 dark:text-rose-400" : ""}>{formatMoney(pnl, true)}</span>;
        },
      },
      { id: "return", header: "Return", enableSorting: false, cell: ({ row }) => formatPct(row.original.return_pct) },
      { id: "commission", header: `Commission${quote ? ` (${quote})` : ""}`, enableSorting: false, cell: ({ row }) => formatMoney(row.original.commission) },
      { id: "reason", header: "Exit reason", enableSorting: false, cell: ({ row }) => exitReasonLabel(row.original.exit_reason) },
      { id: "held", header: "Held", enableSorting: false, cell: ({ row }) => formatDuration(row.original.duration_ms) },
    ],
    [first, selected, zone, quote],
  );

  return (
      <Card
        title={`Trades (${formatNumber(totalTrades, 0)} closed)`}
        className="mb-6"
        actions={<ExportTradesButton run={run} trades={allTrades} />}
      >
        {totalTrades === 0 ? (
          <EmptyState title="This run closed no trade">{noTradeReason(run)}</EmptyState>
        ) : trades.isPending ? (
          <div className="flex flex-col gap-2">
            {Array.from({ length: 8 }, (_, index) => (
              <Skeleton key={index} className="h-7" />
            ))}
          </div>
        ) : trades.error ? (
          <ErrorNotice error={trades.error} />
        ) : (
          <>
            <p className="mb-2 text-xs text-slate-600 dark:text-slate-400">Click a trade, or press Enter on it, to centre the chart on it.</p>
            <div className="max-h-[28rem] overflow-y-auto" data-testid="trades-table">
              <DataTable
                rows={trades.data?.items ?? []}
                columns={columns}
                caption={`Closed trades ${first + 1} to ${first + (trades.data?.items.length ?? 0)} of ${totalTrades}`}
                rowTestId="trade-row"
                onRowClick={(trade) => onSelect(trade, first + (trades.data?.items.indexOf(trade) ?? 0) + 1)}
              />
            </div>
            <nav aria-label="Pages of trades" className="mt-3 flex items-center justify-between gap-2 text-sm">
              <span className="text-slate-600 dark:text-slate-400" data-testid="trades-count">
                Trades {formatNumber(first + 1, 0)}–{formatNumber(Math.min(first + TRADES_PER_PAGE, totalTrades), 0)} of {formatNumber(totalTrades, 0)} · page {page} of {pages}
                {trades.isFetching && <span role="status"> · loading…</span>}
              </span>
              <span className="flex gap-2">
                <Button disabled={page <= 1} onClick={() => setPage(page - 1)}>
                  Previous
                </Button>
                <Button disabled={page >= pages} onClick={() => setPage(page + 1)}>
                  Next
                </Button>
              </span>
            </nav>
          </>
        )}
      </Card>
  );
});

/** Why a run closed no trade, and what to try: its entries skipped, its one position still open, or no entry signal. */
export function noTradeReason(run: Pick<Backtest, "open_trades" | "skipped">): string {
  const skipped = (run.skipped as { total?: number } | undefined)?.total ?? 0;
  if (skipped > 0) {
    return `Its rules signalled ${formatNumber(skipped, 0)} ${skipped === 1 ? "entry" : "entries"}, but the sizing placed no order: see the skipped entries below.`;
  }
  if (run.open_trades?.length) return "Its one position is still open at the end (below): try a longer range.";
  return "Its rules never signalled an entry on these candles: try other params or a longer range.";
}
