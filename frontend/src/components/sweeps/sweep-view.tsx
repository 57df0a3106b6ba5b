"use client";
// A sweep's page: its progress by chunks (moved on by `job` events), the best result so far, a heatmap over any
// two params and the ranking; any cell or row runs as a backtest. Results so far are flagged while it runs.

import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useParams } from "next/navigation";
import { useCallback, useState } from "react";

import { isJobEvent } from "@/components/backtests/runs";
import { quoteCurrency, withUnit } from "@/components/live/model";
import { useCoalesced } from "@/components/live-chart/use-coalesced";
import { useStreamEvents } from "@/components/stream-provider";
import { Badge, Button, ButtonLink, Card, EmptyState, ErrorNotice, PageHeader, Skeleton } from "@/components/ui";
import { ApiError, del, post } from "@/lib/api";
import { formatMoney, formatNumber, formatTime } from "@/lib/format";
import { useSettings } from "@/lib/settings";
import type { Sweep } from "@/lib/types";

import { HeatmapCard } from "./heatmap-card";
import { applySweepJob, FINAL, formatObjective, objectiveLabel, paramsLabel, progressOf, STATE_TONES, type SweepResult, sweptParams } from "./model";
import { RankingTable } from "./ranking-table";
import { sweepKeys, useBacktestParams, useResults, useSweep } from "./queries";

const SKIP_REASONS: Record<string, string> = {
  size_below_step: "size below the quantity step",
  below_min_qty: "under the minimum quantity",
  below_min_notional: "under the minimum notional",
  no_equity: "no equity left",
  above_max_notional: "above the maximum position value",
};

function ProgressCard({ sweep, onBacktest, backtesting }: { sweep: Sweep; onBacktest: (params: Record<string, unknown>) => void; backtesting: boolean }) {
  const progress = progressOf(sweep);
  const best = sweep.best as SweepResult | null | undefined;
  const objective = sweep.objective ?? "sharpe";
  const skipped = (sweep.skipped ?? {}) as { combos?: number; by_reason?: Record<string, number> };
  const reasons = Object.entries(skipped.by_reason ?? {}).filter(([, count]) => count > 0);
  const percent = Math.round(progress.fraction * 100);
  return (
    <Card title="Progress" actions={<Badge tone={STATE_TONES[sweep.state ?? "queued"]}><span data-testid="sweep-state">{sweep.state}</span></Badge>}>
      <div className="flex flex-col gap-3">
        <div>
          <div className="mb-1 flex flex-wrap justify-between gap-2 text-sm">
            <span className="tabular" data-testid="sweep-chunks">
              {formatNumber(progress.chunksDone, 0)} of {formatNumber(progress.chunksTotal, 0)} chunks done
              {progress.combos !== null
                ? ` · ${progress.combosDone !== null ? `${formatNumber(progress.combosDone, 0)} of ` : ""}${formatNumber(progress.combos, 0)} parameter sets`
                : ""}
            </span>
            <span className="tabular text-slate-600 dark:text-slate-400">
              {progress.chunksRunning ? `${progress.chunksRunning} running · ` : ""}
              {progress.chunksQueued ? `${progress.chunksQueued} queued · ` : ""}
              {progress.chunksFailed ? `${progress.chunksFailed} failed · ` : ""}
              {percent} %
            </span>
          </div>
          <div
            role="progressbar"
            aria-label="Chunks done"
            aria-valuemin={0}
            aria-valuemax={progress.chunksTotal || 1}
            aria-valuenow={progress.chunksDone}
            className="h-2.5 w-full overflow-hidden rounded-full bg-slate-200 dark:bg-slate-700"
          >
            <div
              className={`h-full rounded-full transition-[width] duration-300 ${sweep.state === "failed" ? "bg-rose-500" : sweep.state === "done" ? "bg-emerald-500" : "bg-sky-600"}`}
              style={{ width: `${percent}%` }}
            />
          </div>
        </div>
        {sweep.error && <ErrorNotice error={sweep.error} />}
        <div className="flex flex-wrap items-center justify-between gap-3 rounded-md bg-slate-50 p-3 text-sm dark:bg-slate-800" data-testid="sweep-best">
          {best?.params ? (
            <>
              <span>
                {sweep.state === "done" ? "Best" : "Best so far"}: <span className="font-mono">{paramsLabel(best.params, sweptParams(sweep))}</span> ·{" "}
                {objectiveLabel(objective)} <strong className="tabular">{formatObjective(objective, best.stats?.[objective] as number | undefined)}</strong>
              </span>
              <Button onClick={() => onBacktest(best.params ?? {})} disabled={backtesting}>
                Backtest the best params
              </Button>
            </>
          ) : (
            <span className="text-slate-600 dark:text-slate-400">No result yet: the best parameter set shows here once a chunk is done.</span>
          )}
        </div>
        {reasons.length > 0 && (
          <p className="text-xs text-amber-800 dark:text-amber-300">
            {formatNumber(skipped.combos ?? 0, 0)} parameter sets skipped entries:{" "}
            {reasons.map(([reason, count]) => `${SKIP_REASONS[reason] ?? reason.replaceAll("_", " ")} (${formatNumber(count, 0)})`).join(", ")}.
          </p>
        )}
      </div>
    </Card>
  );
}

function Facts({ sweep }: { sweep: Sweep }) {
  const { zone } = useSettings();
  const random = sweep.random as { n?: number; seed?: number } | null | undefined;
  const items: [string, string][] = [
    ["Candles", `${sweep.symbol} ${sweep.timeframe}`],
    ["From", sweep.start ? formatTime(sweep.start, zone, false) : "the first stored"],
    [sweep.end ? "Ends before" : "Until", sweep.end ? formatTime(sweep.end, zone, false) : "the last stored"],
    ["Cash", withUnit(formatMoney(sweep.cash), quoteCurrency([sweep.symbol ?? ""]))],
    ["Objective", `${objectiveLabel(sweep.objective ?? "sharpe")}, ${sweep.maximize === false ? "lowest" : "highest"} best`],
    ["Constraint", sweep.constraint || "none"],
    ["Sample", random?.n ? `${formatNumber(random.n, 0)} at random (seed ${random.seed ?? "—"})` : "every combination"],
    ["Grid", Object.entries(sweep.space ?? {}).map(([name, values]) => `${name}: ${Array.isArray(values) ? values.length : 1}`).join(" · ")],
  ];
  return (
    <dl className="grid grid-cols-2 gap-x-6 gap-y-3 text-sm md:grid-cols-4">
      {items.map(([label, value]) => (
        <div key={label} className="min-w-0">
          <dt className="text-xs text-slate-500 dark:text-slate-400">{label}</dt>
          <dd className="tabular font-medium break-words">{label === "Constraint" && sweep.constraint ? <code>{value}</code> : value}</dd>
        </div>
      ))}
    </dl>
  );
}

export function SweepView() {
  const params = useParams<{ id: string }>();
  const id = decodeURIComponent(params.id);
  const queryClient = useQueryClient();
  const sweep = useSweep(id);
  const [page, setPage] = useState(1);
  const results = useResults(id, page);
  const backtest = useBacktestParams(sweep.data);
  const [launching, setLaunching] = useState<Record<string, unknown> | null>(null);

  const refresh = useCallback(
    () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: sweepKeys.one(id) }),
        queryClient.invalidateQueries({ queryKey: sweepKeys.results(id) }),
        queryClient.invalidateQueries({ queryKey: sweepKeys.heatmap(id) }),
      ]),
    [queryClient, id],
  );
  // A burst of chunks finishing reads the results once.
  const refreshSoon = useCoalesced(refresh, 500);

  useStreamEvents(["job"], (event) => {
    if (!isJobEvent(event.data) || event.data.kind !== "sweep" || event.data.id !== id) return;
    const job = event.data;
    queryClient.setQueryData<Sweep>(sweepKeys.one(id), (old) => (old ? applySweepJob(old, job) : old));
    if (FINAL.has(job.state) || job.stage === "finished") refreshSoon();
  });

  const cancel = useMutation({
    mutationFn: () => del<Sweep>(`/sweeps/${encodeURIComponent(id)}`),
    onSuccess: () => refresh(),
  });
  const resume = useMutation({
    mutationFn: () => post(`/sweeps/${encodeURIComponent(id)}/resume`),
    onSuccess: () => refresh(),
  });

  const runBacktest = useCallback(
    (chosen: Record<string, unknown>) => {
      setLaunching(chosen);
      backtest.mutate(chosen, { onError: () => setLaunching(null) });
    },
    [backtest],
  );

  if (sweep.isPending) {
    return (
      <div className="flex flex-col gap-4" data-testid="sweep-loading">
        <Skeleton className="h-10 w-96" />
        <Skeleton className="h-32" />
        <Skeleton className="h-80" />
      </div>
    );
  }
  if (sweep.error) {
    return (
      <>
        <PageHeader title="Sweep" />
        {sweep.error instanceof ApiError && sweep.error.status === 404 ? (
          <EmptyState title="No sweep has this id">
            It may have been deleted. See{" "}
            <Link href="/sweeps" className="text-sky-700 underline dark:text-sky-400">
              all sweeps
            </Link>
            .
          </EmptyState>
        ) : (
          <ErrorNotice error={sweep.error} />
        )}
      </>
    );
  }
  const data = sweep.data;
  const running = data.state === "queued" || data.state === "running";
  const objective = data.objective ?? "sharpe";
  return (
    <>
      <PageHeader
        title={`Sweep of ${data.strategy_name ?? data.strategy_id}`}
        subtitle={
          <>
            {formatNumber(data.combos ?? 0, 0)} parameter sets on {data.symbol} {data.timeframe}, ranked by {objectiveLabel(objective)} ·{" "}
            <Link href="/sweeps" className="text-sky-700 underline dark:text-sky-400">
              All sweeps
            </Link>
          </>
        }
        actions={
          <>
            {running && (
              <Button variant="danger" onClick={() => cancel.mutate()} disabled={cancel.isPending}>
                {cancel.isPending ? "Cancelling…" : "Cancel sweep"}
              </Button>
            )}
            {data.state === "failed" && (
              <Button onClick={() => resume.mutate()} disabled={resume.isPending}>
                {resume.isPending ? "Resuming…" : "Resume"}
              </Button>
            )}
            <ButtonLink href={`/sweeps/new?strategy_id=${encodeURIComponent(data.strategy_id ?? "")}`} variant="primary">
              New sweep
            </ButtonLink>
          </>
        }
      />
      <div className="flex flex-col gap-6">
        {cancel.error ? <ErrorNotice error={cancel.error} /> : null}
        {resume.error ? <ErrorNotice error={resume.error} /> : null}
        {backtest.error ? <ErrorNotice error={backtest.error} /> : null}
        <Card>
          <Facts sweep={data} />
        </Card>
        <ProgressCard sweep={data} onBacktest={runBacktest} backtesting={backtest.isPending || backtest.isSuccess} />
        <HeatmapCard key={`${data.id}`} sweep={data} onBacktest={runBacktest} backtesting={backtest.isPending || backtest.isSuccess} />
        <Card
          title="Ranking"
          actions={
            running ? (
              <span data-testid="ranking-partial">
                <Badge tone="amber">Results so far</Badge>
              </span>
            ) : null
          }
        >
          <RankingTable
            query={results}
            params={sweptParams(data)}
            objective={objective}
            page={page}
            onPage={setPage}
            onBacktest={runBacktest}
            backtesting={backtest.isPending || backtest.isSuccess ? launching : null}
            running={running}
          />
        </Card>
      </div>
    </>
  );
}
