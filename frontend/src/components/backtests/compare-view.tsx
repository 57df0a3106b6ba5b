"use client";
// Runs side by side: their equity curves normalised to 100 and overlaid, and their stats with the best of each row marked.

import { useQueries } from "@tanstack/react-query";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useMemo } from "react";

import { LineChart } from "@/components/charts/line-chart";
import { ButtonLink, Card, EmptyState, ErrorNotice, PageHeader, Skeleton } from "@/components/ui";
import { get } from "@/lib/api";
import { formatMoney, formatTime } from "@/lib/format";
import { useSettings } from "@/lib/settings";
import type { Backtest } from "@/lib/types";

import { type EquityCurve, MAX_POINTS, normalisedCurve, parseIds } from "./curves";
import { paramsText } from "./runs";
import { bestIndices, STAT_ROWS, statOf } from "./stats";

const COLORS = ["#2563eb", "#f59e0b", "#10b981", "#a855f7", "#ef4444", "#0ea5e9", "#84cc16", "#ec4899"];

export function runLabel(run: Backtest | undefined, index: number): string {
  if (!run) return `Run ${index + 1}`;
  return `#${index + 1} ${run.strategy_name ?? "strategy"} · ${run.symbol ?? ""} ${run.timeframe ?? ""}`.trim();
}

export function CompareView() {
  const search = useSearchParams();
  const ids = useMemo(() => parseIds(search.get("ids")), [search]);
  const { zone } = useSettings();

  const runs = useQueries({
    queries: ids.map((id) => ({ queryKey: ["backtests", "run", id], queryFn: () => get<Backtest>(`/backtests/${id}`) })),
  });
  // The whole curve, or a chart's worth of it where the API can thin it (max_points); thinned here otherwise.
  const curves = useQueries({
    queries: ids.map((id, index) => ({
      queryKey: ["backtests", "equity", id, MAX_POINTS],
      queryFn: () => get<EquityCurve>(`/backtests/${id}/equity`, { max_points: MAX_POINTS }),
      enabled: runs[index]?.data?.state === "done",
      staleTime: Infinity, // a done run's curve never changes
    })),
  });

  const lines = useMemo(
    () =>
      ids.flatMap((_, index) => {
        const curve = curves[index]?.data;
        if (!curve?.ts?.length) return [];
        // Short names on the chart's axis labels; the legend below says which run each is.
        const run = runs[index]?.data;
        const params = paramsText(run?.params);
        return [
          {
            ...normalisedCurve(`#${index + 1}`, curve),
            color: COLORS[index % COLORS.length],
            legend: `${runLabel(run, index)}${params ? ` (${params})` : ""}`,
          },
        ];
      }),
    // Drawn again only when a curve or a run changed (a fixed-length key: the number of runs may change).
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [ids.join(), curves.map((query) => query.dataUpdatedAt).join(), runs.map((query) => query.dataUpdatedAt).join()],
  );

  if (ids.length < 2) {
    return (
      <>
        <PageHeader title="Compare backtests" />
        <EmptyState title="Pick two or more runs to compare">
          On the{" "}
          <Link href="/backtests" className="text-sky-700 underline dark:text-sky-400">
            runs list
          </Link>
          , tick the done runs to compare and press Compare.
        </EmptyState>
      </>
    );
  }

  const loaded = runs.map((query) => query.data);
  const notDone = loaded.flatMap((run, index) => (run && run.state !== "done" ? [{ run, index }] : []));
  const curvesPending = curves.some((query, index) => loaded[index]?.state === "done" && query.isPending);

  return (
    <>
      <PageHeader
        title="Compare backtests"
        subtitle={`${ids.length} runs. Equity is scaled to 100 at each run's first bar, so runs of any cash compare.`}
        actions={<ButtonLink href="/backtests">Back to runs</ButtonLink>}
      />
      {runs.map((query, index) => (query.error ? <div key={ids[index]} className="mb-4"><ErrorNotice error={query.error} /></div> : null))}
      {notDone.map(({ run, index }) => (
        <p key={run.id} role="status" className="mb-4 rounded-md bg-amber-50 p-3 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200">
          {runLabel(run, index)} is {run.state}: it has no results to compare{run.state === "running" || run.state === "queued" ? " until it is done" : ""}.
        </p>
      ))}
      <Card title="Equity, normalised to 100" className="mb-6">
        {curvesPending || runs.some((query) => query.isPending) ? (
          <Skeleton className="h-80" />
        ) : lines.length === 0 ? (
          <EmptyState title="No curve to draw">None of these runs is done.</EmptyState>
        ) : (
          <>
            <div data-testid="compare-chart">
              <LineChart curves={lines} height={340} label={`Equity curves normalised to 100: ${lines.map((line) => line.legend).join("; ")}`} />
            </div>
            <ul className="mt-3 flex flex-wrap gap-x-6 gap-y-1 text-sm" aria-label="Legend" data-testid="compare-legend">
              {lines.map((line) => (
                <li key={line.name} className="flex items-center gap-2">
                  <span aria-hidden className="inline-block h-0.5 w-5" style={{ backgroundColor: line.color, height: 3 }} />
                  {line.legend}
                </li>
              ))}
            </ul>
          </>
        )}
        {curves.map((query, index) => (query.error ? <div key={ids[index]} className="mt-3"><ErrorNotice error={query.error} /></div> : null))}
      </Card>
      <Card title="Stats">
        <p className="mb-3 text-xs text-slate-500 dark:text-slate-400">
          <span aria-hidden>★ </span>marks the best value of each row (highest return, Sharpe and win rate; shallowest drawdown; lowest volatility and
          commission). Rows without a better side (trades, exposure) are not marked.
        </p>
        <div className="overflow-x-auto">
          <table className="w-full border-collapse text-sm" data-testid="compare-stats">
            <caption className="sr-only">Stats of the compared runs, the best of each row marked</caption>
            <thead>
              <tr className="border-b border-slate-200 align-bottom dark:border-slate-700">
                <th scope="col" className="px-2 py-2 text-left text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400">
                  Stat
                </th>
                {ids.map((id, index) => {
                  const run = loaded[index];
                  return (
                    <th key={id} scope="col" className="min-w-44 px-2 py-2 text-right align-bottom font-normal">
                      <span className="flex items-center justify-end gap-2 font-semibold">
                        <span aria-hidden className="inline-block h-2.5 w-2.5 rounded-full" style={{ backgroundColor: COLORS[index % COLORS.length] }} />
                        <Link href={`/backtests/${id}`} prefetch={false} className="text-sky-700 hover:underline dark:text-sky-400">
                          {runLabel(run, index)}
                        </Link>
                      </span>
                      {run && (
                        <span className="mt-1 block text-xs text-slate-500 dark:text-slate-400">
                          {paramsText(run.params) || "no params"}
                          <br />
                          {formatTime(typeof run.stats?.start === "number" ? run.stats.start : run.start, zone, false)} →{" "}
                          {formatTime(typeof run.stats?.end === "number" ? run.stats.end : run.end, zone, false)}
                          <br />
                          cash {formatMoney(run.cash)}
                        </span>
                      )}
                    </th>
                  );
                })}
              </tr>
            </thead>
            <tbody>
              {STAT_ROWS.map((row) => {
                const values = loaded.map((run) => statOf(run, row.key));
                const best = bestIndices(values, row.better);
                return (
                  <tr key={row.key} className="border-b border-slate-100 dark:border-slate-800" data-testid={`stat-${row.key}`}>
                    <th scope="row" className="px-2 py-1.5 text-left font-medium">
                      {row.label}
                    </th>
                    {values.map((value, index) => (
                      <td
                        key={ids[index]}
                        data-best={best.has(index) ? "true" : undefined}
                        className={`tabular px-2 py-1.5 text-right whitespace-nowrap ${best.has(index) ? "bg-emerald-50 font-semibold text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300" : ""}`}
                      >
                        {best.has(index) && (
                          <>
                            <span aria-hidden>★ </span>
                            <span className="sr-only">best: </span>
                          </>
                        )}
                        {value === null ? "—" : row.format(value)}
                      </td>
                    ))}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </Card>
    </>
  );
}
