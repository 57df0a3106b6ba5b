"use client";
// The sweep's results, best first, a page at a time (the API ranks them; a page sorts by any column), each with
// "Backtest these params".

import type { ColumnDef } from "@tanstack/react-table";
import { useMemo } from "react";

import { formatPct, statOf } from "@/components/backtests/stats";
import { DataTable } from "@/components/data-table";
import { Button, EmptyState, ErrorNotice, Skeleton } from "@/components/ui";
import { formatNumber } from "@/lib/format";
import type { Page } from "@/lib/types";

import { formatObjective, objectiveLabel, paramsLabel, type SweepResult } from "./model";
import { RESULTS_PER_PAGE } from "./queries";

function stat(result: SweepResult, key: string): number | undefined {
  return statOf({ stats: result.stats ?? undefined }, key) ?? undefined;
}

export function RankingTable({ query, params, objective, page, onPage, onBacktest, backtesting, running }: {
  query: { data?: Page<SweepResult>; error: unknown; isPending: boolean; isFetching: boolean };
  params: string[];
  objective: string;
  page: number;
  onPage: (page: number) => void;
  onBacktest: (params: Record<string, unknown>) => void;
  /** The params of the run being launched, if any. */
  backtesting: Record<string, unknown> | null;
  running: boolean;
}) {
  const columns = useMemo<ColumnDef<SweepResult, unknown>[]>(
    () => [
      { id: "rank", header: "Rank", accessorFn: (result) => result.rank ?? 0, cell: ({ row }) => <span data-testid="result-rank">{row.original.rank}</span> },
      ...params.map<ColumnDef<SweepResult, unknown>>((name) => ({
        id: `param:${name}`,
        header: name,
        accessorFn: (result) => (typeof result.params?.[name] === "number" ? (result.params[name] as number) : undefined),
        sortUndefined: "last",
        cell: ({ getValue }) => <span className="font-mono">{String(getValue() ?? "—")}</span>,
      })),
      {
        id: "objective",
        header: objectiveLabel(objective),
        accessorFn: (result) => stat(result, objective),
        sortUndefined: "last",
        sortDescFirst: true,
        cell: ({ row }) => {
          const result = row.original;
          if (result.error) return <span className="text-xs text-rose-700 dark:text-rose-400" title={result.error}>refused</span>;
          return <strong>{formatObjective(objective, stat(result, objective))}</strong>;
        },
      },
      ...(objective === "return_pct"
        ? []
        : [{ id: "return", header: "Return", accessorFn: (result: SweepResult) => stat(result, "return_pct"), sortUndefined: "last" as const, sortDescFirst: true, cell: ({ row }: { row: { original: SweepResult } }) => formatPct(stat(row.original, "return_pct")) }]),
      ...(objective === "sharpe"
        ? []
        : [{ id: "sharpe", header: "Sharpe", accessorFn: (result: SweepResult) => stat(result, "sharpe"), sortUndefined: "last" as const, sortDescFirst: true, cell: ({ row }: { row: { original: SweepResult } }) => formatNumber(stat(row.original, "sharpe"), 2) }]),
      {
        id: "drawdown",
        header: "Max drawdown",
        accessorFn: (result) => stat(result, "max_drawdown_pct"),
        sortUndefined: "last",
        sortDescFirst: true,
        cell: ({ row }) => formatPct(stat(row.original, "max_drawdown_pct")),
      },
      {
        id: "trades",
        header: "Trades",
        accessorFn: (result) => stat(result, "n_trades"),
        sortUndefined: "last",
        sortDescFirst: true,
        cell: ({ row }) => {
          const result = row.original;
          const trades = stat(result, "n_trades");
          return (
            <>
              {formatNumber(trades, 0)}
              {result.no_trades_reason ? (
                <span className="block max-w-44 truncate text-xs text-amber-800 dark:text-amber-300" title={result.no_trades_reason}>
                  {result.no_trades_reason}
                </span>
              ) : null}
            </>
          );
        },
      },
      {
        id: "action",
        header: () => <span className="sr-only">Actions</span>,
        enableSorting: false,
        cell: ({ row }) => {
          const result = row.original;
          const launching = backtesting !== null && JSON.stringify(backtesting) === JSON.stringify(result.params);
          return (
            <Button
              className="px-2 py-0.5 text-xs"
              disabled={backtesting !== null || !result.params}
              onClick={() => result.params && onBacktest(result.params)}
              aria-label={`Backtest these params: ${paramsLabel(result.params ?? {}, params)}`}
            >
              {launching ? "Launching…" : "Backtest these params"}
            </Button>
          );
        },
      },
    ],
    [params, objective, backtesting, onBacktest],
  );

  if (query.isPending) {
    return (
      <div className="flex flex-col gap-2" aria-hidden>
        {Array.from({ length: 6 }, (_, index) => (
          <Skeleton key={index} className="h-8" />
        ))}
      </div>
    );
  }
  if (query.error) return <ErrorNotice error={query.error} />;
  const data = query.data;
  if (!data || data.items.length === 0) {
    return (
      <EmptyState title={running ? "No results yet" : "No results"}>
        {running ? "Parameter sets appear here, best first, as each chunk of the sweep finishes." : "This sweep stored no result."}
      </EmptyState>
    );
  }
  const pages = Math.max(1, Math.ceil(data.total / RESULTS_PER_PAGE));
  return (
    <>
      <DataTable rows={data.items} columns={columns} caption={`Results ranked by ${objectiveLabel(objective)}`} rowTestId="result-row" />
      <nav aria-label="Result pages" className="mt-3 flex items-center justify-between gap-2 text-sm">
        <span className="text-slate-600 dark:text-slate-400" data-testid="results-count">
          {formatNumber(data.total, 0)} {data.total === 1 ? "result" : "results"}
          {running ? " so far" : ""} · page {page} of {pages}
          {query.isFetching ? " · updating…" : ""}
        </span>
        <span className="flex gap-2">
          <Button disabled={page <= 1} onClick={() => onPage(page - 1)}>
            Previous
          </Button>
          <Button disabled={page >= pages} onClick={() => onPage(page + 1)}>
            Next
          </Button>
        </span>
      </nav>
    </>
  );
}
