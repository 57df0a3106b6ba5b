"use client";
// The platform at a glance: Redis, MongoDB and the Celery workers (with how old each probe is), queue depths,
// each live symbol's feed freshness, the trade outbox and problems; and the display settings.

import type { ColumnDef } from "@tanstack/react-table";
import Link from "next/link";
import { type ReactNode, useMemo } from "react";

import { DataTable } from "@/components/data-table";
import { useNow } from "@/components/live/use-now";
import { formatAge, type FreshnessRow, freshnessRows } from "@/components/system/freshness";
import { useHealth, useStatus } from "@/components/system/queries";
import { SettingsCard } from "@/components/system/settings-card";
import { Badge, Button, Card, EmptyState, ErrorNotice, Loaded, PageHeader, Skeleton } from "@/components/ui";
import { formatNumber, formatTime, type TimeZoneChoice } from "@/lib/format";
import { useSettings } from "@/lib/settings";
import type { Schemas } from "@/lib/types";

type WorkerStatus = Schemas["WorkerStatus"];
type QueueStatus = Schemas["QueueStatus"];

function StateBadge({ up }: { up: boolean }) {
  return <Badge tone={up ? "green" : "red"}>{up ? "up" : "down"}</Badge>;
}

function ServiceTile({ name, up, children, testId }: { name: string; up: boolean; children: ReactNode; testId: string }) {
  return (
    <div className="flex flex-col gap-1 rounded-md border border-slate-200 p-3 dark:border-slate-700" data-testid={testId} data-state={up ? "up" : "down"}>
      <div className="flex items-center justify-between gap-2">
        <h3 className="text-sm font-semibold">{name}</h3>
        <StateBadge up={up} />
      </div>
      <div className="tabular text-xs text-slate-600 dark:text-slate-400">{children}</div>
    </div>
  );
}

function latency(ms: number | undefined): string {
  return ms === undefined ? "no answer" : `answered in ${formatNumber(ms, ms < 10 ? 2 : 0)} ms`;
}

function Services({ now }: { now: number }) {
  const health = useHealth();
  const status = useStatus();
  return (
    <Card title="Services" actions={health.data ? <Badge tone={health.data.status === "ok" ? "green" : "amber"}>{health.data.status === "ok" ? "all up" : "degraded"}</Badge> : null}>
      <Loaded query={health} skeleton={<Skeleton className="h-24" />}>
        {(report) => {
          const aged = (age: number) => formatAge(age + Math.max(0, (now - health.dataUpdatedAt) / 1000));
          const broker = status.data?.services.broker;
          return (
            <div className="grid gap-3 sm:grid-cols-2 xl:grid-cols-4">
              <ServiceTile name="Redis" up={report.redis.state === "up"} testId="service-redis">
                {latency(report.redis.latency_ms)}
                <br />
                probed {aged(report.redis.age_s)} ago
              </ServiceTile>
              <ServiceTile name="MongoDB" up={report.mongodb.state === "up"} testId="service-mongodb">
                {latency(report.mongodb.latency_ms)}
                <br />
                probed {aged(report.mongodb.age_s)} ago
              </ServiceTile>
              <ServiceTile name="Celery workers" up={report.celery.state === "up"} testId="service-celery">
                {report.celery.workers.length ? `${report.celery.workers.length} answered a ping` : "none answered a ping"}
                <br />
                probed {aged(report.celery.age_s)} ago
              </ServiceTile>
              {broker ? (
                <ServiceTile name="Broker" up={broker.state === "up"} testId="service-broker">
                  {broker.where}
                  <br />
                  {broker.state === "up" ? latency(broker.latency_ms) : broker.error ?? "no answer"}
                </ServiceTile>
              ) : (
                <Skeleton className="h-full min-h-16" />
              )}
            </div>
          );
        }}
      </Loaded>
    </Card>
  );
}

function Problems({ problems }: { problems: string[] }) {
  if (problems.length === 0) {
    return (
      <p className="text-sm text-emerald-700 dark:text-emerald-400" data-testid="no-problems">
        No problems: every service answers and every queue has a worker.
      </p>
    );
  }
  return (
    <div role="alert" className="rounded-md border border-rose-200 bg-rose-50 p-3 text-sm text-rose-800 dark:border-rose-900 dark:bg-rose-950 dark:text-rose-200">
      <p className="font-semibold">
        {problems.length} {problems.length === 1 ? "problem" : "problems"}
      </p>
      <ul className="mt-1 list-disc pl-5">
        {problems.map((problem) => (
          <li key={problem}>{problem}</li>
        ))}
      </ul>
    </div>
  );
}

const workerColumns: ColumnDef<WorkerStatus, unknown>[] = [
  { accessorKey: "name", header: "Worker" },
  { id: "queues", header: "Queues", accessorFn: (row) => row.queues.join(", ") },
  {
    accessorKey: "running",
    header: "Running",
    cell: ({ row }) => (
      <span title={row.original.tasks.join(", ") || undefined}>
        {row.original.running} {row.original.running === 1 ? "task" : "tasks"}
      </span>
    ),
  },
];

const queueColumns: ColumnDef<QueueStatus, unknown>[] = [
  { accessorKey: "name", header: "Queue" },
  { accessorKey: "waiting", header: "Waiting", cell: ({ row }) => `${formatNumber(row.original.waiting, 0)} messages` },
  {
    accessorKey: "consumed",
    header: "Consumed",
    cell: ({ row }) => (
      <>
        <Badge tone={row.original.consumed ? "green" : "red"}>{row.original.consumed ? "yes" : "no worker"}</Badge>
        {row.original.stray ? (
          <span className="ml-1">
            <Badge tone="amber">not used here</Badge>
          </span>
        ) : null}
      </>
    ),
  },
];

function freshnessColumns(zone: TimeZoneChoice): ColumnDef<FreshnessRow, unknown>[] {
  return [
    { accessorKey: "symbol", header: "Symbol" },
    { id: "last", header: "Last tick", cell: ({ row }) => <span data-testid="last-tick">{formatTime(row.original.lastTick, zone)}</span> },
    { id: "age", header: "Age", cell: ({ row }) => formatAge(row.original.age) },
    {
      id: "state",
      header: "Feed",
      cell: ({ row }) =>
        row.original.state === "none" ? <Badge>no tick yet</Badge> : <Badge tone={row.original.state === "stale" ? "red" : "green"}>{row.original.state}</Badge>,
    },
  ];
}

function Platform({ now, zone }: { now: number; zone: TimeZoneChoice }) {
  const status = useStatus();
  const columns = useMemo(() => freshnessColumns(zone), [zone]);
  return (
    <Loaded
      query={status}
      skeleton={
        <div className="grid gap-6 lg:grid-cols-2">
          <Skeleton className="h-40" />
          <Skeleton className="h-40" />
        </div>
      }
    >
      {(report) => {
        const symbols = report.live && "symbols" in report.live ? freshnessRows(report.live.symbols, status.dataUpdatedAt, now) : null;
        const live = report.live && "outbox" in report.live ? report.live : null;
        const queues = report.queues && "queues" in report.queues ? report.queues : null;
        const jobs = report.jobs && "backtests" in report.jobs ? report.jobs : null;
        const stale = symbols?.filter((row) => row.state === "stale").length ?? 0;
        return (
          <div className="flex flex-col gap-6">
            <Problems problems={report.problems} />
            <div className="grid gap-6 lg:grid-cols-2">
              <Card title="Workers">
                {report.workers === null ? (
                  <ErrorNotice error="Unknown: the broker is down." />
                ) : report.workers.length === 0 ? (
                  <EmptyState title="No worker answered">
                    Start the workers (<code>make run</code> starts them all) — live trading and backtests wait until one does.
                  </EmptyState>
                ) : (
                  <DataTable rows={report.workers} columns={workerColumns} caption="Celery workers" rowTestId="worker-row" />
                )}
              </Card>
              <Card title="Queues" actions={queues && queues.shards > 1 ? <Badge>{queues.shards} live shards</Badge> : null}>
                {queues ? <DataTable rows={queues.queues} columns={queueColumns} caption="Queue depths" rowTestId="queue-row" /> : <ErrorNotice error="Unknown: the broker is down." />}
              </Card>
              <Card title="Feed freshness" actions={stale ? <Badge tone="red">{stale} stale</Badge> : null}>
                {symbols === null ? (
                  <ErrorNotice error="Unknown: Redis is down." />
                ) : symbols.length === 0 ? (
                  <EmptyState title="No live symbol">
                    Symbols appear here once a strategy trades them: <Link href="/live" className="text-sky-700 underline dark:text-sky-400">start one</Link> and run a feed.
                  </EmptyState>
                ) : (
                  <>
                    <DataTable rows={symbols} columns={columns} caption="Age of each live symbol's last tick" rowTestId="freshness-row" />
                    <p className="mt-2 text-xs text-slate-500 dark:text-slate-400">Stale: no tick for two periods of the shortest timeframe a strategy trades it on.</p>
                  </>
                )}
              </Card>
              <Card title="Live engine and jobs">
                <dl className="grid grid-cols-2 gap-x-6 gap-y-3 text-sm">
                  <div>
                    <dt className="text-xs text-slate-500 dark:text-slate-400">Trade outbox</dt>
                    <dd className="tabular font-medium" data-testid="outbox">
                      {live ? `${formatNumber(live.outbox, 0)} ${live.outbox === 1 ? "record" : "records"} waiting for MongoDB` : "unknown"}
                    </dd>
                  </div>
                  <div>
                    <dt className="text-xs text-slate-500 dark:text-slate-400">Live accounts</dt>
                    <dd className="tabular font-medium">
                      {live ? `${live.accounts.length} (${live.accounts.filter((account) => account.side !== "flat").length} holding a position)` : "unknown"}
                    </dd>
                  </div>
                  <div>
                    <dt className="text-xs text-slate-500 dark:text-slate-400">Backtests queued or running</dt>
                    <dd className="tabular font-medium">{jobs ? jobs.backtests.length : "unknown"}</dd>
                  </div>
                  <div>
                    <dt className="text-xs text-slate-500 dark:text-slate-400">Sweeps queued or running</dt>
                    <dd className="tabular font-medium">{jobs ? jobs.sweeps.length : "unknown"}</dd>
                  </div>
                </dl>
              </Card>
            </div>
          </div>
        );
      }}
    </Loaded>
  );
}

export default function SystemPage() {
  const { zone } = useSettings();
  const now = useNow(1000);
  const status = useStatus();
  const health = useHealth();
  return (
    <>
      <PageHeader
        title="System"
        subtitle={status.dataUpdatedAt ? `Services, workers, queues and feeds, as of ${formatTime(status.dataUpdatedAt, zone)}.` : "Services, workers, queues and feeds."}
        actions={
          <Button
            onClick={() => {
              void status.refetch();
              void health.refetch();
            }}
            disabled={status.isFetching}
          >
            {status.isFetching ? "Checking…" : "Refresh"}
          </Button>
        }
      />
      <div className="flex flex-col gap-6">
        <Services now={now} />
        <Platform now={now} zone={zone} />
        <SettingsCard now={now} />
      </div>
    </>
  );
}
