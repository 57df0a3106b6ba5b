"use client";
// What the trades and the months add up to: long/short and exit-reason breakdowns, the trade PnL histogram and
// the monthly returns heatmap.

import { useMemo } from "react";

import { formatPct } from "@/components/backtests/stats";
import { EChart } from "@/components/charts/echart";
import { Card, EmptyState, ErrorNotice, Skeleton } from "@/components/ui";
import { formatMoney, formatNumber, formatPercent } from "@/lib/format";
import { useSettings } from "@/lib/settings";
import type { Backtest } from "@/lib/types";

import type { AllTrades } from "./all-trades";
import { type BreakdownRow, exitReasonBreakdown, sideBreakdown } from "./breakdown";
import { histogramOption, pnlBins } from "./histogram";
import { cellLabel, monthlyMatrix, monthlyOption, MONTHS, YEAR_COLUMN } from "./monthly";

const HEAD = "px-2 py-1.5 text-xs font-semibold tracking-wide whitespace-nowrap text-slate-500 uppercase dark:text-slate-400";
const TH = `${HEAD} text-right`;
const CELL = "tabular px-2 py-1.5 text-right whitespace-nowrap";

function pnlClass(value: number | null): string {
  return value && value > 0 ? "text-emerald-700 dark:text-emerald-400" : value && value < 0 ? "text-rose-700 dark:text-rose-400" : "";
}

function BreakdownTable({ rows, first, caption, quote, testId }: { rows: BreakdownRow[]; first: string; caption: string; quote: string; testId: string }) {
  return (
    <table className="w-full border-collapse text-sm" data-testid={testId}>
      <caption className="mb-1 text-left text-sm font-medium">{caption}</caption>
      <thead>
        <tr className="border-b border-slate-200 dark:border-slate-700">
          <th scope="col" className={`${HEAD} text-left`}>
            {first}
          </th>
          <th scope="col" className={TH}>
            Trades
          </th>
          <th scope="col" className={TH}>
            Win rate
          </th>
          <th scope="col" className={TH}>
            PnL{quote ? ` (${quote})` : ""}
          </th>
          <th scope="col" className={TH}>
            Avg PnL{quote ? ` (${quote})` : ""}
          </th>
          <th scope="col" className={TH}>
            Avg return
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.key} className="border-b border-slate-100 dark:border-slate-800" data-key={row.key}>
            <th scope="row" className="px-2 py-1.5 text-left font-medium whitespace-nowrap">
              {row.label}
            </th>
            <td className={CELL}>
              {formatNumber(row.trades, 0)}
              {row.key !== "all" && <span className="ml-1 text-xs text-slate-500 dark:text-slate-400">({formatPercent(row.share, false, 0)})</span>}
            </td>
            <td className={CELL}>{formatPercent(row.winRate, false, 1)}</td>
            <td className={`${CELL} ${pnlClass(row.pnl)}`}>{row.trades ? formatMoney(row.pnl, true) : "—"}</td>
            <td className={`${CELL} ${pnlClass(row.avgPnl)}`}>{formatMoney(row.avgPnl, true)}</td>
            <td className={CELL}>{formatPct(row.avgReturnPct)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Reading({ trades }: { trades: AllTrades }) {
  return (
    <div className="flex flex-col gap-2" role="status" aria-label="Reading the trades">
      <Skeleton className="h-40" />
      {trades.total > 1000 && (
        <p className="text-xs text-slate-500 dark:text-slate-400">
          Reading trades: {formatNumber(trades.read, 0)} of {formatNumber(trades.total, 0)}…
        </p>
      )}
    </div>
  );
}

export function BreakdownCard({ trades, quote }: { trades: AllTrades; quote: string }) {
  const sides = useMemo(() => (trades.data ? sideBreakdown(trades.data) : []), [trades.data]);
  const reasons = useMemo(() => (trades.data ? exitReasonBreakdown(trades.data) : []), [trades.data]);
  return (
    <Card title="Long, short and exit reasons">
      {trades.total === 0 ? (
        <EmptyState title="No closed trade to break down" />
      ) : trades.error ? (
        <ErrorNotice error={trades.error} />
      ) : !trades.data ? (
        <Reading trades={trades} />
      ) : (
        <div className="flex flex-col gap-5 overflow-x-auto" tabIndex={0} role="region" aria-label="Long, short and exit-reason tables">
          <BreakdownTable rows={sides} first="Side" caption="By side" quote={quote} testId="side-breakdown" />
          <BreakdownTable rows={reasons} first="Exit reason" caption="By exit reason" quote={quote} testId="reason-breakdown" />
        </div>
      )}
    </Card>
  );
}

export function HistogramCard({ trades, quote }: { trades: AllTrades; quote: string }) {
  const { theme } = useSettings();
  const bins = useMemo(() => pnlBins((trades.data ?? []).map((trade) => trade.pnl ?? Number.NaN)), [trades.data]);
  const option = useMemo(() => histogramOption(bins, quote, theme === "dark"), [bins, quote, theme]);
  const gains = (trades.data ?? []).filter((trade) => (trade.pnl ?? 0) > 0).length;
  return (
    <Card title="Trade PnL distribution">
      {trades.total === 0 ? (
        <EmptyState title="No closed trade to plot" />
      ) : trades.error ? (
        <ErrorNotice error={trades.error} />
      ) : !trades.data ? (
        <Reading trades={trades} />
      ) : (
        <>
          <div data-testid="pnl-histogram" data-bins={bins.length}>
            <EChart
              option={option}
              height={300}
              label={`Histogram of the PnL of ${trades.data.length} closed trades in ${bins.length} bins from ${formatMoney(bins[0]?.from)} to ${formatMoney(bins[bins.length - 1]?.to)} ${quote}: ${gains} gains, ${trades.data.length - gains} losses or even`}
            />
          </div>
          <p className="mt-1 text-xs text-slate-600 dark:text-slate-400">
            {formatNumber(trades.data.length, 0)} trades: <span className="text-emerald-700 dark:text-emerald-400">{formatNumber(gains, 0)} gains</span>,{" "}
            <span className="text-rose-700 dark:text-rose-400">{formatNumber(trades.data.length - gains, 0)} losses or even</span>. Bins of{" "}
            {formatMoney(bins.length ? bins[0].to - bins[0].from : null)} {quote}, net of commission.
          </p>
        </>
      )}
    </Card>
  );
}

export function MonthlyCard({ run }: { run: Backtest }) {
  const { theme } = useSettings();
  const matrix = useMemo(() => monthlyMatrix(run.monthly_returns), [run.monthly_returns]);
  const option = useMemo(() => monthlyOption(matrix, theme === "dark"), [matrix, theme]);
  const height = Math.max(120, 44 + matrix.years.length * 36);
  return (
    <Card title="Monthly returns" className="mb-6">
      {!matrix.cells.length ? (
        <EmptyState title="No monthly returns stored for this run">Runs stored before they were kept have none; run it again to see them.</EmptyState>
      ) : (
        <>
          <div data-testid="monthly-heatmap" data-years={matrix.years.join(",")} data-cells={matrix.cells.length}>
            <EChart
              option={option}
              height={height}
              label={`Monthly returns heatmap: months across, ${matrix.years.length} ${matrix.years.length === 1 ? "year" : "years"} down (${matrix.years.join(", ")}), the year's return last; green gains, red losses`}
            />
          </div>
          <p className="mt-1 text-xs text-slate-600 dark:text-slate-400">
            Return of the equity over each calendar month (UTC), and over the year in the last column; deeper colours for larger moves. Months without bars are blank.
          </p>
          <table className="sr-only">
            <caption>Monthly returns</caption>
            <thead>
              <tr>
                <th scope="col">Year</th>
                {MONTHS.map((month) => (
                  <th key={month} scope="col">
                    {month}
                  </th>
                ))}
                <th scope="col">Year</th>
              </tr>
            </thead>
            <tbody>
              {matrix.years.map((year, row) => (
                <tr key={year}>
                  <th scope="row">{year}</th>
                  {[...MONTHS.map((_, column) => column), YEAR_COLUMN].map((column) => {
                    const cell = matrix.cells.find((item) => item.row === row && item.column === column);
                    return <td key={column}>{cell ? cellLabel(cell.value) : "—"}</td>;
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Card>
  );
}
