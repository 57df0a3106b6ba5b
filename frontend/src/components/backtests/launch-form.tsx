"use client";
// The launch form: a strategy, a symbol of its spec, dates within the stored candles, cash and params
// (prefilled from the spec); the API's 422 messages at their fields.

import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useEffect, useMemo, useRef, useState } from "react";
import { useForm } from "react-hook-form";

import { findSeries } from "@/components/data/candles";
import { StoredRange } from "@/components/data/stored-range";
import { useSeriesList } from "@/components/data/queries";
import { useStreamEvents } from "@/components/stream-provider";
import { Badge, Button, ButtonLink, Card, EmptyState, ErrorNotice, Field, inputClass, Skeleton } from "@/components/ui";
import { ApiError, get, post } from "@/lib/api";
import { formatNumber } from "@/lib/format";
import { useSettings } from "@/lib/settings";
import type { Backtest } from "@/lib/types";

import { dateRange, type DateRange, launchRequest, launchSchema, type LaunchValues, placeApiErrors } from "./launch";
import { specTarget, useStrategies } from "./queries";
import { FINAL_STATES, isJobEvent, stateLabel } from "./runs";
import { formatPct, statOf } from "./stats";

const RUNS_KEY = ["backtests", "list"];
const DEFAULT_CASH = 10_000;

/** The run just launched, followed to its end: `job` events move it at once, and it is read again when one
 * ends it (stats, error) and once when shown (events sent before this subscribed are not missed). */
function LaunchedRun({ run }: { run: Backtest }) {
  const queryClient = useQueryClient();
  const key = ["backtests", "run", run.id];
  const current = useQuery({ queryKey: key, queryFn: () => get<Backtest>(`/backtests/${run.id}`), initialData: run, staleTime: 0 });
  useStreamEvents(["job"], (event) => {
    if (!isJobEvent(event.data) || event.data.id !== run.id) return;
    const job = event.data;
    queryClient.setQueryData<Backtest>(key, (old) =>
      old && { ...old, state: job.state as Backtest["state"], progress: { stage: job.stage === "finished" ? job.state : job.stage }, error: job.error },
    );
    if (FINAL_STATES.has(job.state)) void queryClient.invalidateQueries({ queryKey: key });
  });
  const state = current.data;
  const tone = state.state === "done" ? "green" : state.state === "failed" ? "red" : state.state === "cancelled" ? "amber" : "sky";
  return (
    <div role="status" className="mb-4 rounded-lg border border-emerald-300 bg-emerald-50 p-4 text-sm dark:border-emerald-800 dark:bg-emerald-950" data-testid="launched">
      <p className="font-medium">
        Backtest launched: {run.strategy_name} on {run.symbol} {run.timeframe}{" "}
        <Badge tone={tone}>
          <span data-testid="launched-state">{stateLabel(state)}</span>
        </Badge>
      </p>
      {state.error && <p className="mt-1 text-rose-700 dark:text-rose-400">{state.error}</p>}
      {state.state === "done" && (
        <p className="mt-1" data-testid="launched-result">
          Return {formatPct(statOf(state, "return_pct"))} · Sharpe {formatNumber(statOf(state, "sharpe"), 2)} · max drawdown{" "}
          {formatPct(statOf(state, "max_drawdown_pct"))} · {formatNumber(statOf(state, "n_trades"), 0)} trades
        </p>
      )}
      <p className="mt-2 flex flex-wrap gap-4">
        <Link href={`/backtests/${run.id}`} prefetch={false} className="text-sky-700 underline dark:text-sky-400">
          Open the run
        </Link>
        <Link href="/backtests" className="text-sky-700 underline dark:text-sky-400">
          See all runs
        </Link>
      </p>
    </div>
  );
}

export function LaunchForm() {
  const search = useSearchParams();
  const strategies = useStrategies();
  const series = useSeriesList();
  const { zone } = useSettings();
  const queryClient = useQueryClient();
  const range = useRef<DateRange | null>(null);
  const schema = useMemo(() => launchSchema(() => range.current), []);
  const [paramsErrors, setParamsErrors] = useState<string[]>([]);
  const [formErrors, setFormErrors] = useState<string[]>([]);
  const [launched, setLaunched] = useState<Backtest | null>(null);

  const form = useForm<LaunchValues>({
    resolver: zodResolver(schema),
    defaultValues: { strategy_id: "", symbol: "", start: "", end: "", cash: DEFAULT_CASH, params: {} },
  });
  const { register, formState, setValue, getValues, reset, watch, setError, handleSubmit } = form;
  const errors = formState.errors;
  const strategyId = watch("strategy_id");
  const symbol = watch("symbol");
  const strategy = strategies.data?.find((item) => item.id === strategyId);
  const target = useMemo(() => specTarget(strategy), [strategy]);
  const stored = findSeries(series.data, symbol, target.timeframe);
  const bounds = dateRange(stored?.first_ts, stored?.last_ts, zone);
  range.current = bounds;

  // The first strategy (or ?strategy_id=) once the list is in.
  useEffect(() => {
    if (!strategies.data?.length || getValues("strategy_id")) return;
    const wanted = search.get("strategy_id");
    const chosen = strategies.data.find((item) => item.id === wanted) ?? strategies.data[0];
    setValue("strategy_id", chosen.id ?? "");
  }, [strategies.data, search, getValues, setValue]);

  /** The whole stored range of a symbol, as the date inputs show it. */
  function storedDates(forSymbol: string, timeframe: string): { start: string; end: string } {
    const found = findSeries(series.data, forSymbol, timeframe);
    const days = dateRange(found?.first_ts, found?.last_ts, zone);
    return { start: days?.min ?? "", end: days?.max ?? "" };
  }

  // Another strategy: its first symbol over all its stored candles, and its params.
  useEffect(() => {
    if (!strategy) return;
    const spec = specTarget(strategy);
    const first = spec.symbols[0] ?? "";
    reset({ strategy_id: strategy.id ?? "", symbol: first, ...storedDates(first, spec.timeframe), cash: getValues("cash") || DEFAULT_CASH, params: spec.params });
    setParamsErrors([]);
    setFormErrors([]);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [strategy, reset, getValues]);

  // Another symbol: all its stored candles.
  const symbolField = register("symbol", {
    onChange: (event: { target: HTMLSelectElement }) => {
      const dates = storedDates(event.target.value, target.timeframe);
      setValue("start", dates.start);
      setValue("end", dates.end);
    },
  });

  const launch = useMutation({
    mutationFn: (values: LaunchValues) => post<Backtest>("/backtests", launchRequest(values, zone)),
    onSuccess: (run) => {
      setLaunched(run);
      void queryClient.invalidateQueries({ queryKey: RUNS_KEY });
    },
    onError: (error) => {
      if (error instanceof ApiError && error.status === 422) {
        const placed = placeApiErrors(error.fieldErrors("json"), Object.keys(target.params));
        for (const [field, message] of Object.entries(placed.fields)) {
          setError(field as keyof LaunchValues, { type: "server", message }, { shouldFocus: true });
        }
        setParamsErrors(placed.params);
        setFormErrors(placed.other.length ? placed.other : Object.keys(placed.fields).length || placed.params.length ? [] : [error.message]);
      } else {
        setFormErrors([error instanceof Error ? error.message : String(error)]);
      }
    },
  });

  const submit = handleSubmit((values) => {
    setParamsErrors([]);
    setFormErrors([]);
    const params = Object.fromEntries(Object.keys(target.params).map((name) => [name, values.params?.[name]]));
    launch.mutate({ ...values, params });
  });

  if (strategies.isPending || series.isPending) {
    return (
      <Card>
        <div className="grid gap-4 md:grid-cols-2" data-testid="launch-loading">
          {Array.from({ length: 6 }, (_, index) => (
            <Skeleton key={index} className="h-12" />
          ))}
        </div>
      </Card>
    );
  }
  if (strategies.error) return <ErrorNotice error={strategies.error} />;
  if (!strategies.data?.length) {
    return (
      <EmptyState title="No strategy to run yet">
        Create one on the{" "}
        <Link href="/strategies" className="text-sky-700 underline dark:text-sky-400">
          Strategies
        </Link>{" "}
        page, then come back to backtest it.
      </EmptyState>
    );
  }

  const zoneName = zone === "utc" ? "UTC" : "local time";
  const paramNames = Object.keys(target.params);
  const described = (field: string, error: unknown) => (error ? { "aria-invalid": true as const, "aria-describedby": `${field}-error` } : {});

  return (
    <>
      {launched && <LaunchedRun key={launched.id} run={launched} />}
      <Card>
        <form onSubmit={submit} noValidate aria-label="Launch a backtest">
          {formErrors.length > 0 && (
            <div className="mb-4">
              <ErrorNotice error={formErrors.join("; ")} />
            </div>
          )}
          <div className="grid gap-6 lg:grid-cols-2">
            <div className="flex flex-col gap-4">
              <Field label="Strategy" htmlFor="strategy_id" error={errors.strategy_id?.message}>
                <select id="strategy_id" className={inputClass} {...register("strategy_id")} {...described("strategy_id", errors.strategy_id)}>
                  {strategies.data.map((item) => (
                    <option key={item.id} value={item.id}>
                      {item.name} · {specTarget(item).timeframe}
                    </option>
                  ))}
                </select>
              </Field>
              <Field
                label="Symbol"
                htmlFor="symbol"
                error={errors.symbol?.message}
                hint={target.timeframe ? `Candles of ${target.timeframe}, the strategy's timeframe.` : undefined}
              >
                <select id="symbol" className={inputClass} {...symbolField} {...described("symbol", errors.symbol)}>
                  {target.symbols.map((item) => (
                    <option key={item} value={item}>
                      {item}
                    </option>
                  ))}
                </select>
              </Field>
              <StoredRange stored={stored} symbol={symbol} timeframe={target.timeframe} />
              <div className="grid grid-cols-2 gap-4">
                <Field label={`Start date (${zoneName})`} htmlFor="start" error={errors.start?.message} hint={bounds ? `Stored from ${bounds.min}.` : undefined}>
                  <input id="start" type="date" className={inputClass} min={bounds?.min} max={bounds?.max} {...register("start")} {...described("start", errors.start)} />
                </Field>
                <Field label={`End date (${zoneName})`} htmlFor="end" error={errors.end?.message} hint={bounds ? `Stored until ${bounds.max}. This day is included.` : undefined}>
                  <input id="end" type="date" className={inputClass} min={bounds?.min} max={bounds?.max} {...register("end")} {...described("end", errors.end)} />
                </Field>
              </div>
              <Field label="Starting cash (quote currency)" htmlFor="cash" error={errors.cash?.message} hint={`The account's value at the start; ${formatNumber(DEFAULT_CASH, 0)} unless changed.`}>
                <input id="cash" type="number" step="any" min={0} inputMode="decimal" className={inputClass} {...register("cash", { valueAsNumber: true })} {...described("cash", errors.cash)} />
              </Field>
            </div>
            <fieldset className="flex flex-col gap-4" aria-describedby={paramsErrors.length ? "params-error" : undefined}>
              <legend className="mb-2 text-sm font-medium">Params</legend>
              <p className="-mt-2 text-xs text-slate-500 dark:text-slate-400">The strategy&apos;s own values are filled in; change any for this run only.</p>
              {paramsErrors.length > 0 && (
                <p id="params-error" role="alert" className="text-xs text-rose-600 dark:text-rose-400">
                  {paramsErrors.join("; ")}
                </p>
              )}
              {paramNames.length === 0 ? (
                <p className="text-sm text-slate-600 dark:text-slate-400">This strategy has no params.</p>
              ) : (
                <div className="grid grid-cols-2 gap-4">
                  {paramNames.map((name) => {
                    const error = errors.params?.[name];
                    return (
                      <Field key={`${strategyId}-${name}`} label={name} htmlFor={`params.${name}`} error={error?.message} hint={`Spec: ${target.params[name]}`}>
                        <input
                          id={`params.${name}`}
                          type="number"
                          step="any"
                          inputMode="decimal"
                          className={inputClass}
                          {...register(`params.${name}`, { valueAsNumber: true })}
                          {...described(`params.${name}`, error)}
                        />
                      </Field>
                    );
                  })}
                </div>
              )}
            </fieldset>
          </div>
          <div className="mt-6 flex items-center gap-3 border-t border-slate-200 pt-4 dark:border-slate-800">
            <Button type="submit" variant="primary" disabled={launch.isPending || !stored}>
              {launch.isPending ? "Launching…" : "Launch backtest"}
            </Button>
            <ButtonLink href="/backtests">Back to runs</ButtonLink>
          </div>
        </form>
      </Card>
    </>
  );
}
