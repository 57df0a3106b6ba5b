"use client";
// Recent sweeps, newest first, with their state, progress and best objective; `job` events move them live.

import { useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useMemo } from "react";

import { isJobEvent } from "@/components/backtests/runs";
import { DataTable } from "@/components/data-table";
import { useCoalesced } from "@/components/live-chart/use-coalesced";
import { useStreamEvents } from "@/components/stream-provider";
import { Badge, Button, ButtonLink, Card, EmptyState, ErrorNotice, PageHeader, Skeleton } from "@/components/ui";
import { formatNumber, formatTime } from "@/lib/format";
import { useSettings } from "@/lib/settings";
import type { Page, SweepSummary } from "@/lib/types";

import { applySweepJob, bestValue, FINAL, formatObjective, objectiveLabel, progressOf, STATE_TONES } from "./model";
import { sweepKeys, SWEEPS_PER_PAGE, useSweepList } from "./queries";

function timeOf(iso: string | undefined): number | undefined {
  const ms = iso ? Date.parse(iso) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

export function SweepsList() {
  const search = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const pageNumber = Math.max(1, Number(search.get("page")) || 1);
  const { zone } = useSettings();
  const queryClient = useQueryClient();
  const sweeps = useSweepList(pageNumber);
  const refresh = useCoalesced(() => queryClient.invalidateQueries({ queryKey: ["sweeps", "list"] }), 800);

  useStreamEvents(["job"], (event) => {
    if (!isJobEvent(event.data) || event.data.kind !== "sweep") return;
    const job = event.data;
    let known = false;
    queryClient.setQueriesData<Page<SweepSummary>>({ queryKey: ["sweeps", "list"] }, (page) => {
      if (!page) return page;
      known ||= page.items.some((item) => item.id === job.id);
      return { ...page, items: page.items.map((item) => applySweepJob(item, job)) };
    });
    if (!known || FINAL.has(job.state) || job.stage === "finished") refresh();
  });

  const columns = useMemo<ColumnDef<SweepSummary, unknown>[]>(
    () => [
      {
        id: "strategy",
        header: "Strategy",
        accessorFn: (sweep) => sweep.strategy_name ?? "",
        cell: ({ row }) => (
          <Link href={`/sweeps/${row.original.id}`} className="font-medium text-sky-700 hover:underline dark:text-sky-400">
            {row.original.strategy_name ?? row.original.strategy_id}
          </Link>
        ),
      },
      { id: "symbol", header: "Candles", accessorFn: (sweep) => `${sweep.symbol ?? ""} ${sweep.timeframe ?? ""}` },
      {
        id: "params",
        header: "Swept",
        enableSorting: false,
        cell: ({ row }) => <span className="font-mono text-xs">{Object.keys(row.original.space ?? {}).join(", ")}</span>,
      },
      { id: "combos", header: "Sets", accessorFn: (sweep) => sweep.combos ?? 0, cell: ({ row }) => formatNumber(row.original.combos, 0) },
      {
        id: "state",
        header: "State",
        accessorFn: (sweep) => sweep.state ?? "",
        cell: ({ row }) => {
          const sweep = row.original;
          const progress = progressOf(sweep);
          return (
            <span className="flex items-center gap-2" data-testid="sweep-row-state" data-state={sweep.state}>
              <Badge tone={STATE_TONES[sweep.state ?? "queued"]}>{sweep.state}</Badge>
              {sweep.state === "running" || sweep.state === "queued" ? (
                <span className="text-xs text-slate-600 dark:text-slate-400">
                  {progress.chunksDone}/{progress.chunksTotal} chunks
                </span>
              ) : null}
            </span>
          );
        },
      },
      {
        id: "best",
        header: "Best objective",
        accessorFn: (sweep) => bestValue(sweep) ?? undefined,
        sortUndefined: "last",
        sortDescFirst: true,
        cell: ({ row }) => {
          const sweep = row.original;
          const value = bestValue(sweep);
          return value === null ? (
            "—"
          ) : (
            <>
              {formatObjective(sweep.objective ?? "", value)} <span className="text-xs text-slate-500 dark:text-slate-400">{objectiveLabel(sweep.objective ?? "")}</span>
            </>
          );
        },
      },
      {
        id: "created",
        header: "Created",
        accessorFn: (sweep) => timeOf(sweep.created_at) ?? 0,
        sortDescFirst: true,
        cell: ({ row }) => formatTime(timeOf(row.original.created_at), zone, false),
      },
    ],
    [zone],
  );

  const data = sweeps.data;
  const pages = data ? Math.max(1, Math.ceil(data.total / SWEEPS_PER_PAGE)) : 1;
  const go = (page: number) => router.replace(page > 1 ? `${pathname}?page=${page}` : pathname, { scroll: false });

  return (
    <>
      <PageHeader
        title="Sweeps"
        subtitle="A strategy run over a grid of params, ranked by an objective. Open one for its heatmap and ranking."
        actions={
          <ButtonLink href="/sweeps/new" variant="primary">
            New sweep
          </ButtonLink>
        }
      />
      <Card>
        {sweeps.isPending ? (
          <div className="flex flex-col gap-2" data-testid="sweeps-loading">
            {Array.from({ length: 6 }, (_, index) => (
              <Skeleton key={index} className="h-8" />
            ))}
          </div>
        ) : sweeps.error ? (
          <ErrorNotice error={sweeps.error} />
        ) : !data || data.items.length === 0 ? (
          <EmptyState title="No sweeps yet">
            Start one with{" "}
            <Link href="/sweeps/new" className="text-sky-700 underline dark:text-sky-400">
              New sweep
            </Link>
            : pick a strategy, give some of its params a list or range of values, and an objective to rank them by.
          </EmptyState>
        ) : (
          <>
            <DataTable rows={data.items} columns={columns} caption="Sweeps" rowTestId="sweep-row" />
            <nav aria-label="Pages" className="mt-3 flex items-center justify-between gap-2 text-sm">
              <span className="text-slate-600 dark:text-slate-400">
                {formatNumber(data.total, 0)} {data.total === 1 ? "sweep" : "sweeps"} · page {pageNumber} of {pages}
              </span>
              <span className="flex gap-2">
                <Button disabled={pageNumber <= 1} onClick={() => go(pageNumber - 1)}>
                  Previous
                </Button>
                <Button disabled={pageNumber >= pages} onClick={() => go(pageNumber + 1)}>
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
