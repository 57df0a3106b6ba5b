"use client";
// Every strategy by name, a page at a time: symbols, timeframe, version, last change and whether it trades live.

import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { Suspense, useEffect, useMemo, useState } from "react";

import { DataTable } from "@/components/data-table";
import { LiveBadge, liveOf, refreshIfNewlyLive, TRADING_EVENTS } from "@/components/strategies/live-badge";
import { useStreamEvents } from "@/components/stream-provider";
import { Button, ButtonLink, Card, EmptyState, ErrorNotice, PageHeader, Skeleton, inputClass } from "@/components/ui";
import { get } from "@/lib/api";
import { formatTime } from "@/lib/format";
import { useSettings } from "@/lib/settings";
import type { Page, Strategy } from "@/lib/types";

const PER_PAGE = 20;

function StrategyList() {
  const router = useRouter();
  const pathname = usePathname();
  const search = useSearchParams();
  const client = useQueryClient();
  const { zone } = useSettings();
  const name = search.get("name") ?? "";
  const page = Math.max(1, Number(search.get("page")) || 1);
  const [typed, setTyped] = useState(name);

  function go(next: { name?: string; page?: number }) {
    const query = new URLSearchParams();
    const nextName = next.name ?? name;
    const nextPage = next.page ?? page;
    if (nextName) query.set("name", nextName);
    if (nextPage > 1) query.set("page", String(nextPage));
    const suffix = query.toString();
    router.replace(suffix ? `${pathname}?${suffix}` : pathname, { scroll: false });
  }

  // The filter follows typing, a moment after the last key.
  useEffect(() => {
    if (typed.trim() === name) return;
    const timer = window.setTimeout(() => go({ name: typed.trim(), page: 1 }), 300);
    return () => window.clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [typed]);

  const queryKey = ["strategies", { name, page }];
  const list = useQuery({
    queryKey,
    queryFn: () => get<Page<Strategy>>("/strategies", { page, per_page: PER_PAGE, name: name || undefined }),
    placeholderData: keepPreviousData,
  });

  useStreamEvents(TRADING_EVENTS, (event) => {
    refreshIfNewlyLive(client, event, list.data?.items ?? [], ["strategies"]);
  });

  const columns = useMemo<ColumnDef<Strategy, unknown>[]>(
    () => [
      {
        id: "name",
        header: "Name",
        enableSorting: false,
        cell: ({ row }) => (
          <Link href={`/strategies/${row.original.id}`} className="font-medium text-sky-700 hover:underline dark:text-sky-400" onClick={(event) => event.stopPropagation()}>
            {row.original.name}
          </Link>
        ),
      },
      {
        id: "symbols",
        header: "Symbols",
        enableSorting: false,
        cell: ({ row }) => {
          const symbols = (row.original.spec?.symbols as string[] | undefined) ?? [];
          return <span className="font-mono text-xs">{symbols.length > 3 ? `${symbols.slice(0, 3).join(", ")} +${symbols.length - 3}` : symbols.join(", ")}</span>;
        },
      },
      { id: "timeframe", header: "Timeframe", enableSorting: false, cell: ({ row }) => <span className="font-mono text-xs">{String(row.original.spec?.timeframe ?? "")}</span> },
      { id: "version", header: "Version", enableSorting: false, cell: ({ row }) => row.original.version },
      {
        id: "updated",
        header: "Updated",
        enableSorting: false,
        cell: ({ row }) => (row.original.updated_at ? formatTime(Date.parse(row.original.updated_at), zone, false) : "—"),
      },
      { id: "live", header: "Live", enableSorting: false, cell: ({ row }) => <LiveBadge live={liveOf(row.original)} /> },
    ],
    [zone],
  );

  const data = list.data;
  const pages = data ? Math.max(1, data.pages ?? Math.ceil(data.total / PER_PAGE)) : 1;

  return (
    <>
      <PageHeader
        title="Strategies"
        subtitle="Specs the backtester, sweeps and the live engine run. Open one to edit, backtest or trade it."
        actions={
          <ButtonLink href="/strategies/new" variant="primary">
            New strategy
          </ButtonLink>
        }
      />
      <Card>
        {(list.isPending || name || typed || (data?.total ?? 0) > 0) && (
          <form role="search" onSubmit={(event) => (event.preventDefault(), go({ name: typed.trim(), page: 1 }))} className="mb-4 flex items-end gap-2">
            <div className="flex flex-col gap-1">
              <label htmlFor="strategy-filter" className="text-sm font-medium">
                Name starts with
              </label>
              <input id="strategy-filter" type="search" value={typed} onChange={(event) => setTyped(event.target.value)} placeholder="SMA" autoComplete="off" className={`${inputClass} w-64`} />
            </div>
            {name && (
              <Button onClick={() => (setTyped(""), go({ name: "", page: 1 }))}>Clear</Button>
            )}
          </form>
        )}
        {list.isPending ? (
          <div aria-busy="true" aria-label="Loading strategies" className="flex flex-col gap-2">
            {Array.from({ length: 5 }, (_, index) => (
              <Skeleton key={index} className="h-8" />
            ))}
          </div>
        ) : list.error ? (
          <ErrorNotice error={list.error} />
        ) : !data || data.total === 0 ? (
          name ? (
            <EmptyState title={`No strategy name starts with “${name}”`}>
              Names are matched from their first letter, case included.{" "}
              <button type="button" className="text-sky-700 underline dark:text-sky-400" onClick={() => (setTyped(""), go({ name: "", page: 1 }))}>
                Show all strategies
              </button>
            </EmptyState>
          ) : (
            <EmptyState title="No strategies yet">
              <p>A strategy is a JSON spec: symbols, a timeframe, TA-Lib indicators and entry and exit rules.</p>
              <div className="mt-4">
                <ButtonLink href="/strategies/new" variant="primary">
                  New strategy
                </ButtonLink>
              </div>
            </EmptyState>
          )
        ) : !data.items.length ? (
          <EmptyState title={`Page ${page} is past the last page`}>
            <button type="button" className="text-sky-700 underline dark:text-sky-400" onClick={() => go({ page: 1 })}>
              Go to the first page
            </button>
          </EmptyState>
        ) : (
          <>
            <DataTable rows={data.items} columns={columns} caption="Strategies" rowTestId="strategy-row" onRowClick={(row) => router.push(`/strategies/${row.id}`)} />
            <nav aria-label="Pages" className="mt-4 flex items-center justify-between gap-2 text-sm">
              <span className="text-slate-600 dark:text-slate-400" data-testid="paging">
                {data.total} strateg{data.total === 1 ? "y" : "ies"} · page {data.page} of {pages}
              </span>
              <span className="flex gap-2">
                <Button onClick={() => go({ page: page - 1 })} disabled={page <= 1}>
                  Previous
                </Button>
                <Button onClick={() => go({ page: page + 1 })} disabled={page >= pages}>
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

export default function StrategiesPage() {
  return (
    <Suspense>
      <StrategyList />
    </Suspense>
  );
}
