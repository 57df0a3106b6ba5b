"use client";
// The backtest runs: filters in the URL, a page at a time, live states from `job` events, runs to compare.

import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useMemo, useState } from "react";

import { DataTable } from "@/components/data-table";
import { useSeriesList } from "@/components/data/queries";
import { useStreamEvents } from "@/components/stream-provider";
import { useToast } from "@/components/toasts";
import { Badge, Button, ButtonLink, Card, EmptyState, ErrorNotice, inputClass, PageHeader, Skeleton, toneOf } from "@/components/ui";
import { ApiError, del, get } from "@/lib/api";
import { formatNumber, formatTime } from "@/lib/format";
import { useSettings } from "@/lib/settings";
import type { BacktestSummary, Page } from "@/lib/types";

import { MAX_COMPARED } from "./curves";
import { specTarget, useStrategies } from "./queries";
import { applyJobEvent, filtersFromSearch, FINAL_STATES, isJobEvent, paramsText, PER_PAGE, type RunFilters, searchFromFilters, stateLabel, STATES } from "./runs";
import { formatPct, statOf } from "./stats";

export const RUNS_KEY = ["backtests", "list"] as const;

const STATE_TONES: Record<string, "slate" | "green" | "red" | "amber" | "sky"> = {
  queued: "slate",
  running: "sky",
  done: "green",
  failed: "red",
  cancelled: "amber",
};

function timeOf(iso: string | undefined): number | undefined {
  const ms = iso ? Date.parse(iso) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

function Tone({ value, children }: { value: number | null; children: string }) {
  const tone = toneOf(value);
  return <span className={tone === "gain" ? "text-emerald-700 dark:text-emerald-400" : tone === "loss" ? "text-rose-700 dark:text-rose-400" : ""}>{children}</span>;
}

export function RunsList() {
  const router = useRouter();
  const pathname = usePathname();
  const search = useSearchParams();
  const filters = useMemo(() => filtersFromSearch(new URLSearchParams(search.toString())), [search]);
  const { zone } = useSettings();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [selected, setSelected] = useState<string[]>([]);

  const runs = useQuery({
    queryKey: [...RUNS_KEY, filters],
    queryFn: () => get<Page<BacktestSummary>>("/backtests", { ...filters, per_page: PER_PAGE }),
    placeholderData: keepPreviousData,
  });
  const strategies = useStrategies();
  const series = useSeriesList();

  // A run's state changes arrive as `job` events: the row changes at once; a finished run (its stats) or one
  // this page does not show yet is read again.
  useStreamEvents(["job"], (event) => {
    if (!isJobEvent(event.data) || event.data.kind !== "backtest") return;
    const job = event.data;
    let refetch = false;
    queryClient.setQueriesData<Page<BacktestSummary>>({ queryKey: RUNS_KEY }, (page) => {
      if (!page) return page;
      const applied = applyJobEvent(page, job);
      refetch ||= applied.refetch;
      return applied.page;
    });
    if (refetch || FINAL_STATES.has(job.state)) void queryClient.invalidateQueries({ queryKey: RUNS_KEY });
    if (FINAL_STATES.has(job.state)) void queryClient.invalidateQueries({ queryKey: ["backtests", "run", job.id] });
  });

  const cancel = useMutation({
    mutationFn: (id: string) => del<BacktestSummary>(`/backtests/${id}`),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: RUNS_KEY }),
    onError: (error) =>
      toast({ tone: "error", title: "The run was not cancelled", body: error instanceof ApiError ? error.message : String(error) }),
  });

  function go(next: RunFilters) {
    const query = searchFromFilters(next);
    router.replace(query ? `${pathname}?${query}` : pathname, { scroll: false });
  }

  function toggle(id: string, on: boolean) {
    setSelected((ids) => (on ? [...ids.filter((other) => other !== id), id].slice(-MAX_COMPARED) : ids.filter((other) => other !== id)));
  }

  const symbols = useMemo(() => {
    const all = new Set<string>();
    for (const strategy of strategies.data ?? []) specTarget(strategy).symbols.forEach((symbol) => all.add(symbol));
    for (const item of series.data ?? []) if (item.symbol) all.add(item.symbol);
    if (filters.symbol) all.add(filters.symbol);
    return [...all].sort();
  }, [strategies.data, series.data, filters.symbol]);

  const columns = useMemo<ColumnDef<BacktestSummary, unknown>[]>(
    () => [
      {
        id: "select",
        header: () => <span className="sr-only">Compare</span>,
        enableSorting: false,
        cell: ({ row }) => {
          const run = row.original;
          const done = run.state === "done";
          const created = formatTime(timeOf(run.created_at), zone, false);
          return (
            <input
              type="checkbox"
              className="h-4 w-4 align-middle"
              checked={selected.includes(run.id ?? "")}
              disabled={!done}
              title={done ? "Select to compare" : "Only done runs can be compared"}
              aria-label={`Compare the ${run.strategy_name ?? "strategy"} ${run.symbol ?? ""} run of ${created}`}
              onChange={(event) => toggle(run.id ?? "", event.target.checked)}
            />
          );
        },
      },
      {
        id: "strategy",
        header: "Strategy",
        accessorFn: (run) => run.strategy_name ?? "",
        // No prefetch: a row's result page is read when it is opened, not for every row shown.
        cell: ({ row }) => (
          <>
            <Link href={`/backtests/${row.original.id}`} prefetch={false} className="font-medium text-sky-700 hover:underline dark:text-sky-400">
              {row.original.strategy_name ?? row.original.strategy_id}
            </Link>
            {row.original.params && Object.keys(row.original.params).length > 0 && (
              <span className="block text-xs text-slate-500 dark:text-slate-400">{paramsText(row.original.params)}</span>
            )}
          </>
        ),
      },
      { id: "symbol", header: "Symbol", accessorFn: (run) => run.symbol ?? "" },
      { id: "timeframe", header: "Timeframe", accessorFn: (run) => run.timeframe ?? "" },
      {
        id: "state",
        header: "State",
        accessorFn: (run) => STATES.indexOf(run.state ?? "queued"),
        cell: ({ row }) => {
          const run = row.original;
          return (
            <span className="flex items-center gap-2" data-testid="run-state" data-state={run.state}>
              <Badge tone={STATE_TONES[run.state ?? "queued"]}>{stateLabel(run)}</Badge>
              {run.state === "failed" && run.error && (
                <span className="max-w-56 truncate text-xs text-rose-700 dark:text-rose-400" title={run.error}>
                  {run.error}
                </span>
              )}
            </span>
          );
        },
      },
      {
        id: "return",
        header: "Return",
        accessorFn: (run) => statOf(run, "return_pct") ?? undefined,
        sortUndefined: "last",
        sortDescFirst: true,
        cell: ({ row }) => {
          const value = statOf(row.original, "return_pct");
          return <Tone value={value}>{formatPct(value)}</Tone>;
        },
      },
      {
        id: "sharpe",
        header: "Sharpe",
        accessorFn: (run) => statOf(run, "sharpe") ?? undefined,
        sortUndefined: "last",
        sortDescFirst: true,
        cell: ({ row }) => formatNumber(statOf(row.original, "sharpe"), 2),
      },
      {
        id: "drawdown",
        header: "Max drawdown",
        accessorFn: (run) => statOf(run, "max_drawdown_pct") ?? undefined,
        sortUndefined: "last",
        sortDescFirst: true,
        cell: ({ row }) => formatPct(statOf(row.original, "max_drawdown_pct")),
      },
      {
        id: "trades",
        header: "Trades",
        accessorFn: (run) => statOf(run, "n_trades") ?? undefined,
        sortUndefined: "last",
        sortDescFirst: true,
        cell: ({ row }) => formatNumber(statOf(row.original, "n_trades"), 0),
      },
      {
        id: "created",
        header: "Created",
        accessorFn: (run) => timeOf(run.created_at) ?? 0,
        sortDescFirst: true,
        cell: ({ row }) => formatTime(timeOf(row.original.created_at), zone, false),
      },
      {
        id: "actions",
        header: () => <span className="sr-only">Actions</span>,
        enableSorting: false,
        cell: ({ row }) => {
          const run = row.original;
          if (run.state !== "queued" && run.state !== "running") return null;
          return (
            <Button
              className="px-2 py-0.5 text-xs"
              disabled={cancel.isPending && cancel.variables === run.id}
              onClick={() => cancel.mutate(run.id ?? "")}
              aria-label={`Cancel the ${run.strategy_name ?? ""} ${run.symbol ?? ""} run`}
            >
              Cancel
            </Button>
          );
        },
      },
    ],
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [selected, zone, cancel.isPending, cancel.variables],
  );

  const filtered = Boolean(filters.strategy_id || filters.symbol || filters.state);
  const data = runs.data;
  const pages = data ? Math.max(1, Math.ceil(data.total / PER_PAGE)) : 1;
  const compareHref = `/backtests/compare?ids=${selected.join(",")}`;

  return (
    <>
      <PageHeader
        title="Backtests"
        subtitle="Runs of your strategies on stored candles. Select two or more done runs to compare them."
        actions={
          <>
            <Button variant="secondary" disabled={selected.length < 2} onClick={() => router.push(compareHref)} data-testid="compare">
              Compare{selected.length ? ` (${selected.length})` : ""}
            </Button>
            <ButtonLink href="/backtests/new" variant="primary">
              New backtest
            </ButtonLink>
          </>
        }
      />
      <Card>
        <form className="mb-4 flex flex-wrap items-end gap-3" role="search" aria-label="Filter runs" onSubmit={(event) => event.preventDefault()}>
          <div className="flex flex-col gap-1">
            <label htmlFor="filter-strategy" className="text-xs font-medium text-slate-600 dark:text-slate-400">
              Strategy
            </label>
            <select
              id="filter-strategy"
              className={`${inputClass} w-56`}
              value={filters.strategy_id ?? ""}
              onChange={(event) => go({ ...filters, strategy_id: event.target.value || undefined, page: 1 })}
            >
              <option value="">All strategies</option>
              {(strategies.data ?? []).map((strategy) => (
                <option key={strategy.id} value={strategy.id}>
                  {strategy.name}
                </option>
              ))}
              {filters.strategy_id && !strategies.data?.some((strategy) => strategy.id === filters.strategy_id) && (
                <option value={filters.strategy_id}>{filters.strategy_id}</option>
              )}
            </select>
          </div>
          <div className="flex flex-col gap-1">
            <label htmlFor="filter-symbol" className="text-xs font-medium text-slate-600 dark:text-slate-400">
              Symbol
            </label>
            <select
              id="filter-symbol"
              className={`${inputClass} w-40`}
              value={filters.symbol ?? ""}
              onChange={(event) => go({ ...filters, symbol: event.target.value || undefined, page: 1 })}
            >
              <option value="">All symbols</option>
              {symbols.map((symbol) => (
                <option key={symbol} value={symbol}>
                  {symbol}
                </option>
              ))}
            </select>
          </div>
          <div className="flex flex-col gap-1">
            <label htmlFor="filter-state" className="text-xs font-medium text-slate-600 dark:text-slate-400">
              State
            </label>
            <select
              id="filter-state"
              className={`${inputClass} w-36`}
              value={filters.state ?? ""}
              onChange={(event) => go({ ...filters, state: (event.target.value || undefined) as RunFilters["state"], page: 1 })}
            >
              <option value="">All states</option>
              {STATES.map((state) => (
                <option key={state} value={state}>
                  {state}
                </option>
              ))}
            </select>
          </div>
          {filtered && (
            <Button onClick={() => go({ page: 1 })} className="mb-px">
              Clear filters
            </Button>
          )}
          {runs.isFetching && !runs.isPending && (
            <span className="mb-2 text-xs text-slate-500 dark:text-slate-400" role="status">
              Updating…
            </span>
          )}
        </form>

        {runs.isPending ? (
          <div className="flex flex-col gap-2" data-testid="runs-loading">
            {Array.from({ length: 6 }, (_, index) => (
              <Skeleton key={index} className="h-8" />
            ))}
          </div>
        ) : runs.error ? (
          <ErrorNotice error={runs.error} />
        ) : !data || data.items.length === 0 ? (
          filtered ? (
            <EmptyState title="No run matches these filters">
              <Button onClick={() => go({ page: 1 })}>Clear filters</Button>
            </EmptyState>
          ) : (
            <EmptyState title="No backtests yet">
              Launch one with{" "}
              <Link href="/backtests/new" className="text-sky-700 underline dark:text-sky-400">
                New backtest
              </Link>
              : pick a strategy, the stored candles to run it on and its parameters. Runs appear here as they go.
            </EmptyState>
          )
        ) : (
          <>
            <DataTable rows={data.items} columns={columns} caption="Backtest runs" rowTestId="run-row" />
            <nav aria-label="Pages" className="mt-3 flex items-center justify-between gap-2 text-sm">
              <span className="text-slate-600 dark:text-slate-400" data-testid="runs-count">
                {formatNumber(data.total, 0)} {data.total === 1 ? "run" : "runs"} · page {filters.page} of {pages}
              </span>
              <span className="flex gap-2">
                <Button disabled={filters.page <= 1} onClick={() => go({ ...filters, page: filters.page - 1 })}>
                  Previous
                </Button>
                <Button disabled={filters.page >= pages} onClick={() => go({ ...filters, page: filters.page + 1 })}>
                  Next
                </Button>
              </span>
            </nav>
          </>
        )}
      </Card>
    </>
  );
}
