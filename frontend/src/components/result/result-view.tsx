"use client";
// A backtest run's page: who ran what on which candles and how it went. A queued or running run shows its
// stages moving (`job` events of the live stream, no polling) and becomes its results once done.

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useEffect, useRef, useState } from "react";

import { RUNS_KEY } from "@/components/backtests/runs-list";
import { FINAL_STATES, isJobEvent, paramsText } from "@/components/backtests/runs";
import { ConfirmDialog } from "@/components/live/confirm-dialog";
import { quoteCurrency, withUnit } from "@/components/live/model";
import { useStreamEvents, useStreamState } from "@/components/stream-provider";
import { useToast } from "@/components/toasts";
import { Badge, Button, ButtonLink, Card, EmptyState, ErrorNotice, PageHeader, Skeleton } from "@/components/ui";
import { ApiError, del } from "@/lib/api";
import { formatDuration, formatMoney, formatNumber, formatTime } from "@/lib/format";
import { useSettings } from "@/lib/settings";
import type { Backtest, BacktestSummary, Page } from "@/lib/types";

import { useAllTrades } from "./all-trades";
import { BreakdownCard, HistogramCard, MonthlyCard } from "./analysis-cards";
import { maxBarsFromSearch } from "./chart-data";
import { OpenTradesCard, SkippedCard, SpecCard } from "./details-cards";
import { EquityCard } from "./equity-card";
import { PriceSection } from "./price-section";
import { chartQuery, fetchRun, runKey } from "./queries";
import { RunProgress } from "./run-progress";
import { applyJob, seenStages, stageOf } from "./stages";
import { StatsCard } from "./stats-card";

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

function seconds(value: number): string {
  return value < 1 ? `${formatNumber(value * 1000, 0)} ms` : `${formatNumber(value, 1)} s`;
}

function numberStat(run: Backtest, key: string): number | undefined {
  const value = run.stats?.[key];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

export function ResultView({ id }: { id: string }) {
  const queryClient = useQueryClient();
  const router = useRouter();
  const toast = useToast();
  const stream = useStreamState();
  const [confirming, setConfirming] = useState(false);
  const [seen, setSeen] = useState<{ stage: string; at: number }[]>([]);
  const deleted = useRef(false);
  useEffect(
    () => () => {
      if (deleted.current) queryClient.removeQueries({ queryKey: ["backtests"], predicate: (query) => query.queryKey.includes(id) });
    },
    [queryClient, id],
  );

  const search = useSearchParams();
  const maxBars = maxBarsFromSearch(search.get("bars"));
  // The chart, the page's heaviest answer, is asked for beside the run rather than after it: a run opened by its
  // address is most often done. Not when this tab knows the run is still going (launched here, or listed so);
  // a speculative ask that finds the run unfinished (409) is asked again once the run is done and shown.
  useEffect(() => {
    const pages = queryClient.getQueriesData<Page<BacktestSummary>>({ queryKey: RUNS_KEY });
    const listed = pages.flatMap(([, page]) => page?.items ?? []).find((item) => item.id === id);
    const state = queryClient.getQueryData<Backtest>(runKey(id))?.state ?? listed?.state;
    if (state === undefined || state === "done") void queryClient.prefetchQuery(chartQuery(id, null, maxBars));
    // Once, when the page opens.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  const run = useQuery({
    queryKey: runKey(id),
    queryFn: () => fetchRun(id),
    retry: (count, error) => !(error instanceof ApiError && error.status === 404) && count < 2,
  });
  const current = run.data;

  // Stages move with the run's `job` events; a final one reads the run again (its stats, its error).
  useStreamEvents(["job"], (event) => {
    if (!isJobEvent(event.data) || event.data.kind !== "backtest" || event.data.id !== id) return;
    const job = event.data;
    queryClient.setQueryData<Backtest>(runKey(id), (old) => (old ? applyJob(old, job) : old));
    if (FINAL_STATES.has(job.state)) {
      void queryClient.invalidateQueries({ queryKey: runKey(id) });
      void queryClient.invalidateQueries({ queryKey: RUNS_KEY });
    }
  });

  // Events sent before the stream opened are not replayed to a new page: once it is open, read the run again.
  const live = stream === "open" || stream === "follower";
  const active = current ? !FINAL_STATES.has(current.state ?? "") : false;
  useEffect(() => {
    if (live && active) void queryClient.invalidateQueries({ queryKey: runKey(id) });
  }, [live, active, id, queryClient]);

  // The stages this page saw the run enter, with when: its log while it runs.
  const stage = current ? (current.state === "done" ? "done" : stageOf(current)) : null;
  useEffect(() => {
    if (stage) setSeen((log) => seenStages(log, stage, Date.now()));
  }, [stage]);

  const cancel = useMutation({
    mutationFn: () => del<Backtest>(`/backtests/${id}`),
    onSuccess: (answer) => {
      if (answer) queryClient.setQueryData(runKey(id), answer);
      void queryClient.invalidateQueries({ queryKey: RUNS_KEY });
      toast({ tone: "info", title: "Backtest cancelled", body: "Its worker stops at the next stage and stores nothing." });
    },
    onError: (error) => toast({ tone: "error", title: "The run was not cancelled", body: error instanceof ApiError ? error.message : String(error) }),
  });

  const remove = useMutation({
    mutationFn: () => del<Backtest>(`/backtests/${id}`),
    onSuccess: (answer) => {
      setConfirming(false);
      if (answer) {
        // Still running after all (it was relaunched?): it was cancelled instead.
        queryClient.setQueryData(runKey(id), answer);
        return;
      }
      deleted.current = true; // its queries are dropped once this page is gone (now, they would be read again)
      void queryClient.invalidateQueries({ queryKey: RUNS_KEY });
      toast({ tone: "success", title: "Backtest deleted", body: "Its results, trades and curves are gone." });
      router.push("/backtests");
    },
    onError: (error) => {
      setConfirming(false);
      toast({ tone: "error", title: "The run was not deleted", body: error instanceof ApiError ? error.message : String(error) });
    },
  });

  if (run.isPending) {
    return (
      <div data-testid="result-loading">
        <Skeleton className="mb-2 h-8 w-96" />
        <Skeleton className="mb-6 h-4 w-[36rem]" />
        <Skeleton className="mb-6 h-48" />
        <Skeleton className="h-96" />
      </div>
    );
  }
  if (run.error || !current) {
    const missing = run.error instanceof ApiError && run.error.status === 404;
    return (
      <>
        <PageHeader title="Backtest" actions={<ButtonLink href="/backtests">Back to runs</ButtonLink>} />
        {missing ? (
          <EmptyState title="No backtest has this id">
            It may have been deleted. Find your runs on the{" "}
            <Link href="/backtests" className="text-sky-700 underline dark:text-sky-400">
              runs list
            </Link>
            , or launch a{" "}
            <Link href="/backtests/new" className="text-sky-700 underline dark:text-sky-400">
              new backtest
            </Link>
            .
          </EmptyState>
        ) : (
          <ErrorNotice error={run.error} />
        )}
      </>
    );
  }

  const done = current.state === "done";
  const final = FINAL_STATES.has(current.state ?? "");
  const quote = quoteCurrency([current.symbol ?? ""]);

  return (
    <>
      <RunHeader
        run={current}
        seen={seen}
        actions={
          <>
            <ButtonLink href="/backtests">Back to runs</ButtonLink>
            <ButtonLink href={`/backtests/new?strategy_id=${current.strategy_id ?? ""}`}>New run</ButtonLink>
            {!final ? (
              <Button variant="danger" onClick={() => cancel.mutate()} disabled={cancel.isPending}>
                {cancel.isPending ? "Cancelling…" : "Cancel run"}
              </Button>
            ) : (
              <Button variant="danger" onClick={() => setConfirming(true)} disabled={remove.isPending}>
                Delete
              </Button>
            )}
          </>
        }
      />

      {!final && (
        <Card title={current.state === "queued" ? "Queued" : "Running"} className="mb-6">
          <RunProgress run={current} seen={seen} />
        </Card>
      )}
      {current.state === "failed" && (
        <Card title="The run failed" className="mb-6">
          <p role="alert" className="mb-4 rounded-md bg-rose-50 p-3 text-sm text-rose-800 dark:bg-rose-950 dark:text-rose-200" data-testid="run-error">
            {current.error ?? "It failed without saying why; the worker's log has the details."}
          </p>
          <RunProgress run={current} seen={seen} />
        </Card>
      )}
      {current.state === "cancelled" && (
        <EmptyState title="This run was cancelled before it finished">
          It has no results. Delete it, or{" "}
          <Link href={`/backtests/new?strategy_id=${current.strategy_id ?? ""}`} className="text-sky-700 underline dark:text-sky-400">
            run it again
          </Link>
          .
        </EmptyState>
      )}
      {done &&
        (current.stats && typeof current.n_trades === "number" ? (
          <DoneResult run={current} quote={quote} />
        ) : (
          // The job event said done; its results are being read.
          <div data-testid="result-loading" role="status" aria-label="Loading the results">
            <Skeleton className="mb-6 h-48" />
            <Skeleton className="h-96" />
          </div>
        ))}

      <ConfirmDialog
        open={confirming}
        title="Delete this backtest?"
        confirmLabel="Delete"
        busy={remove.isPending}
        onConfirm={() => remove.mutate()}
        onCancel={() => setConfirming(false)}
      >
        {current.strategy_name} on {current.symbol} {current.timeframe}: its stats, trades and curves are removed for good. The strategy itself stays.
      </ConfirmDialog>
    </>
  );
}

/** The results: what is on screen first (stats, equity, candles); what lies below (every trade read for the
 * breakdowns, the ECharts) starts once the candles are drawn, so a big chart has the browser to itself. */
function DoneResult({ run, quote }: { run: Backtest; quote: string }) {
  const [priceDrawn, setPriceDrawn] = useState(false);
  const trades = useAllTrades(run, priceDrawn);
  return (
    <div data-testid="result">
      <StatsCard stats={run.stats} quote={quote} />
      {priceDrawn ? <EquityCard run={run} quote={quote} /> : <Skeleton className="mb-6 h-[30rem]" />}
      <PriceSection run={run} quote={quote} allTrades={trades} onDrawn={() => setPriceDrawn(true)} />
      <div className="mb-6 grid gap-6 xl:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <BreakdownCard trades={trades} quote={quote} />
        <HistogramCard trades={trades} quote={quote} />
      </div>
      {priceDrawn ? <MonthlyCard run={run} /> : <Skeleton className="mb-6 h-40" />}
      <OpenTradesCard run={run} quote={quote} />
      <SkippedCard run={run} quote={quote} />
      <SpecCard run={run} />
    </div>
  );
}

function RunHeader({ run, seen, actions }: { run: Backtest; seen: { stage: string; at: number }[]; actions: React.ReactNode }) {
  const { zone } = useSettings();
  const quote = quoteCurrency([run.symbol ?? ""]);
  const start = numberStat(run, "start") ?? run.start ?? undefined;
  const end = numberStat(run, "end") ?? (typeof run.end === "number" ? run.end : undefined);
  const params = paramsText(run.params);
  const timings = (run.timings ?? {}) as Record<string, number>;
  const took = Object.values(timings).reduce((sum, value) => sum + (typeof value === "number" ? value : 0), 0);
  const worker = run.worker as { hostname?: string; pid?: number } | undefined;
  const state = run.state ?? "queued";
  return (
    <PageHeader
      title={
        <span className="flex flex-wrap items-center gap-3">
          <span>
            {run.strategy_name ?? "Backtest"}
            {run.strategy_version !== undefined && <span className="ml-2 text-base font-normal text-slate-500 dark:text-slate-400">v{run.strategy_version}</span>}
          </span>
          <span data-testid="run-state" data-state={state} data-stage={state === "done" ? "done" : stageOf(run)} data-seen={seen.map((entry) => entry.stage).join(",")}>
            <Badge tone={STATE_TONES[state]}>{state === "running" ? `running: ${stageOf(run)}` : state}</Badge>
          </span>
        </span>
      }
      subtitle={
        <span className="flex flex-col gap-0.5" data-testid="run-identity">
          <span>
            <span className="font-medium text-slate-800 dark:text-slate-200">
              {run.symbol} · {run.timeframe}
            </span>{" "}
            · {start !== undefined ? formatTime(start, zone, false) : "first stored candle"} → {end !== undefined ? formatTime(end, zone, false) : "last stored candle"}
            {typeof run.bars === "number" && ` (${formatNumber(run.bars, 0)} bars${numberStat(run, "duration") !== undefined ? `, ${formatDuration(numberStat(run, "duration"))}` : ""})`} · cash{" "}
            {withUnit(formatMoney(run.cash), quote)}
            {params && ` · ${params}`}
          </span>
          <span className="text-xs">
            Created {formatTime(timeOf(run.created_at), zone)}
            {run.finished_at && ` · finished ${formatTime(timeOf(run.finished_at), zone)}`}
            {took > 0 && ` · worked ${seconds(took)} (${Object.entries(timings).map(([step, value]) => `${step.replace(/_s$/, "")} ${seconds(value)}`).join(", ")})`}
            {worker?.hostname && ` · on ${worker.hostname}${worker.pid ? ` (pid ${worker.pid})` : ""}`}
            {(run.attempts ?? 0) > 1 && ` · ${run.attempts} attempts (a worker was lost)`}
            {seen.length > 1 && ` · followed live: ${seen.map((entry) => entry.stage).join(" → ")}`}
          </span>
        </span>
      }
      actions={actions}
    />
  );
}
