"use client";
// The new-sweep form: a strategy and the stored candles to run it on; each of its params as a row taking values
// (a list or a range) with the number of combinations counted as they are typed; a constraint, an objective and
// an optional random sample. The API's 422 messages go to their rows and fields.

import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useEffect, useMemo, useRef, useState } from "react";
import { useForm } from "react-hook-form";
import { z } from "zod";

import { dateRange, type DateRange } from "@/components/backtests/launch";
import { specTarget, useStrategies } from "@/components/backtests/queries";
import { findSeries } from "@/components/data/candles";
import { StoredRange } from "@/components/data/stored-range";
import { useSeriesList } from "@/components/data/queries";
import { ButtonLink, Button, Card, EmptyState, ErrorNotice, Field, inputClass, Skeleton } from "@/components/ui";
import { ApiError, post } from "@/lib/api";
import { formatNumber } from "@/lib/format";
import { useSettings } from "@/lib/settings";
import type { Sweep } from "@/lib/types";

import { combinationCount, MAX_COMBOS, MAX_GRID_POINTS, parseValues, placeSweepErrors, sweepRequest, type SweepValues, valueCount } from "./grid";
import { defaultDirection, OBJECTIVES } from "./model";
import { sweepKeys } from "./queries";

const DEFAULT_CASH = 10_000;

function wholeNumber(text: string, min: number, max: number): boolean {
  const value = Number(text);
  return text.trim() !== "" && Number.isInteger(value) && value >= min && value <= max;
}

export function sweepSchema(range: () => DateRange | null) {
  return z
    .object({
      strategy_id: z.string().min(1, "Choose a strategy"),
      symbol: z.string().min(1, "Choose a symbol"),
      start: z.string(),
      end: z.string(),
      cash: z.number({ error: "Enter the starting cash as a number" }).refine((value) => Number.isFinite(value) && value > 0, "The starting cash must be more than 0"),
      grid: z.record(z.string(), z.string()),
      constraint: z.string(),
      objective: z.string().min(1, "Choose an objective"),
      direction: z.enum(["max", "min"]),
      sample: z.boolean(),
      n: z.string(),
      seed: z.string(),
    })
    .superRefine((values, context) => {
      for (const [name, text] of Object.entries(values.grid)) {
        const parsed = parseValues(text ?? "");
        if (parsed.kind === "error") context.addIssue({ code: "custom", path: ["grid", name], message: parsed.message });
      }
      if (values.sample && !wholeNumber(values.n, 1, MAX_COMBOS)) {
        context.addIssue({ code: "custom", path: ["n"], message: `A whole number from 1 to ${formatNumber(MAX_COMBOS, 0)}` });
      }
      if (values.sample && values.seed.trim() !== "" && !wholeNumber(values.seed, 0, Number.MAX_SAFE_INTEGER)) {
        context.addIssue({ code: "custom", path: ["seed"], message: "A whole number from 0, or empty for any" });
      }
      const bounds = range();
      if (values.start && bounds && (values.start < bounds.min || values.start > bounds.max)) {
        context.addIssue({ code: "custom", path: ["start"], message: `The stored candles run from ${bounds.min} to ${bounds.max}` });
      }
      if (values.end && bounds && (values.end < bounds.min || values.end > bounds.max)) {
        context.addIssue({ code: "custom", path: ["end"], message: `The stored candles run from ${bounds.min} to ${bounds.max}` });
      }
      if (values.start && values.end && values.end < values.start) {
        context.addIssue({ code: "custom", path: ["end"], message: "The end must not be before the start" });
      }
    });
}

/** "10 × 4 = 40": how the count is made, for the summary under the grid. */
export function countText(counts: number[]): string {
  const total = counts.reduce((product, count) => product * count, 1);
  return counts.length > 1 ? `${counts.map((count) => formatNumber(count, 0)).join(" × ")} = ${formatNumber(total, 0)}` : formatNumber(total, 0);
}

export function SweepForm() {
  const search = useSearchParams();
  const router = useRouter();
  const queryClient = useQueryClient();
  const strategies = useStrategies();
  const series = useSeriesList();
  const { zone } = useSettings();
  const range = useRef<DateRange | null>(null);
  const schema = useMemo(() => sweepSchema(() => range.current), []);
  const [gridErrors, setGridErrors] = useState<string[]>([]);
  const [formErrors, setFormErrors] = useState<string[]>([]);

  const form = useForm<SweepValues>({
    resolver: zodResolver(schema),
    defaultValues: { strategy_id: "", symbol: "", start: "", end: "", cash: DEFAULT_CASH, grid: {}, constraint: "", objective: "sharpe", direction: "max", sample: false, n: "200", seed: "" },
  });
  const { register, formState, setValue, getValues, reset, watch, setError, handleSubmit } = form;
  const errors = formState.errors;
  const strategyId = watch("strategy_id");
  const symbol = watch("symbol");
  const grid = watch("grid");
  const sample = watch("sample");
  const strategy = strategies.data?.find((item) => item.id === strategyId);
  const target = useMemo(() => specTarget(strategy), [strategy]);
  const paramNames = Object.keys(target.params);
  const stored = findSeries(series.data, symbol, target.timeframe);
  const bounds = dateRange(stored?.first_ts, stored?.last_ts, zone);
  range.current = bounds;

  const parsed = paramNames.map((name) => parseValues(grid?.[name] ?? ""));
  const combos = combinationCount(parsed);
  const counts = parsed.filter((row) => row.kind === "list" || row.kind === "range").map(valueCount);

  // The first strategy (or ?strategy_id=) once the list is in.
  useEffect(() => {
    if (!strategies.data?.length || getValues("strategy_id")) return;
    const wanted = search.get("strategy_id");
    const chosen = strategies.data.find((item) => item.id === wanted) ?? strategies.data[0];
    setValue("strategy_id", chosen.id ?? "");
  }, [strategies.data, search, getValues, setValue]);

  function storedDates(forSymbol: string, timeframe: string): { start: string; end: string } {
    const found = findSeries(series.data, forSymbol, timeframe);
    const days = dateRange(found?.first_ts, found?.last_ts, zone);
    return { start: days?.min ?? "", end: days?.max ?? "" };
  }

  // Another strategy: its first symbol over all its stored candles, and a row per param.
  useEffect(() => {
    if (!strategy) return;
    const spec = specTarget(strategy);
    const first = spec.symbols[0] ?? "";
    const values = getValues();
    reset({
      ...values,
      strategy_id: strategy.id ?? "",
      symbol: first,
      ...storedDates(first, spec.timeframe),
      grid: Object.fromEntries(Object.keys(spec.params).map((name) => [name, ""])),
      constraint: "",
    });
    setGridErrors([]);
    setFormErrors([]);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [strategy, reset, getValues]);

  // The stored candles may arrive after the strategy was chosen: then their whole range, once.
  useEffect(() => {
    if (!stored || getValues("start") || getValues("end")) return;
    const days = dateRange(stored.first_ts, stored.last_ts, zone);
    if (!days) return;
    setValue("start", days.min);
    setValue("end", days.max);
  }, [stored, zone, getValues, setValue]);

  const symbolField = register("symbol", {
    onChange: (event: { target: HTMLSelectElement }) => {
      const dates = storedDates(event.target.value, target.timeframe);
      setValue("start", dates.start);
      setValue("end", dates.end);
    },
  });
  const objectiveField = register("objective", {
    onChange: (event: { target: HTMLSelectElement }) => setValue("direction", defaultDirection(event.target.value)),
  });

  const launch = useMutation({
    mutationFn: (values: SweepValues) => post<Sweep>("/sweeps", sweepRequest(values, paramNames, zone)),
    onSuccess: (sweep) => {
      void queryClient.invalidateQueries({ queryKey: sweepKeys.all });
      router.push(`/sweeps/${sweep.id}`);
    },
    onError: (error) => {
      if (error instanceof ApiError && error.status === 422) {
        const placed = placeSweepErrors(error.fieldErrors("json"), paramNames);
        for (const [field, message] of Object.entries(placed.fields)) {
          setError(field as keyof SweepValues, { type: "server", message }, { shouldFocus: true });
        }
        setGridErrors(placed.grid);
        setFormErrors(placed.other.length ? placed.other : Object.keys(placed.fields).length || placed.grid.length ? [] : [error.message]);
      } else {
        setFormErrors([error instanceof Error ? error.message : String(error)]);
      }
    },
  });

  const submit = handleSubmit((values) => {
    setFormErrors([]);
    if (combinationCount(paramNames.map((name) => parseValues(values.grid?.[name] ?? ""))) === 0) {
      setGridErrors(["Give values to at least one param: a list like 5, 10, 15 or a range like 5:50:5."]);
      return;
    }
    setGridErrors([]);
    launch.mutate(values);
  });

  if (strategies.isPending || series.isPending) {
    return (
      <Card>
        <div className="grid gap-4 md:grid-cols-2" data-testid="sweep-form-loading">
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
      <EmptyState title="No strategy to sweep yet">
        Create one on the{" "}
        <Link href="/strategies" className="text-sky-700 underline dark:text-sky-400">
          Strategies
        </Link>{" "}
        page, with the params you want to vary, then come back.
      </EmptyState>
    );
  }

  const zoneName = zone === "utc" ? "UTC" : "local time";
  const described = (field: string, error: unknown) => (error ? { "aria-invalid": true as const, "aria-describedby": `${field}-error` } : {});
  const tooMany = combos !== null && combos > MAX_GRID_POINTS;

  return (
    <Card>
      <form onSubmit={submit} noValidate aria-label="New sweep">
        {formErrors.length > 0 && (
          <div className="mb-4">
            <ErrorNotice error={formErrors.join("; ")} />
          </div>
        )}
        <div className="grid gap-8 lg:grid-cols-2">
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
            <Field label="Symbol" htmlFor="symbol" error={errors.symbol?.message} hint={target.timeframe ? `Candles of ${target.timeframe}, the strategy's timeframe.` : undefined}>
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
              <Field label={`End date (${zoneName})`} htmlFor="end" error={errors.end?.message} hint={bounds ? `Until ${bounds.max}; this day included.` : undefined}>
                <input id="end" type="date" className={inputClass} min={bounds?.min} max={bounds?.max} {...register("end")} {...described("end", errors.end)} />
              </Field>
            </div>
            <Field label="Starting cash (quote currency)" htmlFor="cash" error={errors.cash?.message}>
              <input id="cash" type="number" step="any" min={0} inputMode="decimal" className={inputClass} {...register("cash", { valueAsNumber: true })} {...described("cash", errors.cash)} />
            </Field>
            <div className="grid grid-cols-[minmax(0,1fr)_auto] gap-4">
              <Field label="Objective" htmlFor="objective" error={errors.objective?.message} hint="The stat the parameter sets are ranked by.">
                <select id="objective" className={inputClass} {...objectiveField} {...described("objective", errors.objective)}>
                  {OBJECTIVES.map((item) => (
                    <option key={item.key} value={item.key}>
                      {item.label} ({item.key})
                    </option>
                  ))}
                </select>
              </Field>
              <Field label="Best is" htmlFor="direction" error={errors.direction?.message}>
                <select id="direction" className={inputClass} {...register("direction")}>
                  <option value="max">the highest</option>
                  <option value="min">the lowest</option>
                </select>
              </Field>
            </div>
            <Field
              label="Constraint (optional)"
              htmlFor="constraint"
              error={errors.constraint?.message}
              hint={
                <>
                  A rule over params that each combination must meet, e.g. <code>$fast &lt; $slow</code>. Empty: all of them run.
                </>
              }
            >
              <input
                id="constraint"
                type="text"
                spellCheck={false}
                autoComplete="off"
                placeholder={paramNames.length > 1 ? `$${paramNames[0]} < $${paramNames[1]}` : "$fast < $slow"}
                className={`${inputClass} font-mono`}
                {...register("constraint")}
                {...described("constraint", errors.constraint)}
              />
            </Field>
          </div>

          <fieldset className="flex min-w-0 flex-col gap-3" aria-describedby={gridErrors.length ? "grid-error" : "grid-help"}>
            <legend className="mb-1 text-sm font-medium">Grid</legend>
            <p id="grid-help" className="-mt-1 text-xs text-slate-500 dark:text-slate-400">
              Values for each param to vary: a list (<code>5, 10, 15</code>) or a range <code>start:stop:step</code> (<code>5:50:5</code> is 5, 10 … 50).
              Leave a param empty to keep the strategy&apos;s value.
            </p>
            {gridErrors.length > 0 && (
              <p id="grid-error" role="alert" className="text-xs text-rose-600 dark:text-rose-400">
                {gridErrors.join("; ")}
              </p>
            )}
            {paramNames.length === 0 ? (
              <p className="text-sm text-slate-600 dark:text-slate-400">This strategy has no params to sweep: give it some in its spec (params, used as $name).</p>
            ) : (
              <div className="flex flex-col divide-y divide-slate-100 rounded-md border border-slate-200 dark:divide-slate-800 dark:border-slate-700">
                {paramNames.map((name, index) => {
                  const error = errors.grid?.[name];
                  const row = parsed[index];
                  const id = `grid.${name}`;
                  return (
                    <div key={`${strategyId}-${name}`} className="grid grid-cols-[8rem_minmax(0,1fr)_6rem] items-start gap-3 px-3 py-2.5" data-testid="grid-row">
                      <label htmlFor={id} className="pt-1.5 font-mono text-sm font-medium break-all">
                        {name}
                      </label>
                      <div className="flex min-w-0 flex-col gap-1">
                        <input
                          id={id}
                          type="text"
                          spellCheck={false}
                          autoComplete="off"
                          placeholder="e.g. 5, 10, 15 or 5:50:5"
                          className={`${inputClass} tabular font-mono`}
                          {...register(`grid.${name}`)}
                          {...(error ? { "aria-invalid": true as const, "aria-describedby": `${id}-error` } : { "aria-describedby": `${id}-hint` })}
                        />
                        {error?.message ? (
                          <p id={`${id}-error`} role="alert" className="text-xs text-rose-600 dark:text-rose-400">
                            {error.message}
                          </p>
                        ) : (
                          <p id={`${id}-hint`} className="text-xs text-slate-500 dark:text-slate-400">
                            Strategy&apos;s value: {target.params[name]}
                          </p>
                        )}
                      </div>
                      <span className="tabular pt-1.5 text-right text-sm text-slate-600 dark:text-slate-300" data-testid="row-count">
                        {row.kind === "none" ? "not swept" : row.kind === "error" ? "—" : `${formatNumber(row.count, 0)} ${row.count === 1 ? "value" : "values"}`}
                      </span>
                    </div>
                  );
                })}
              </div>
            )}
            <p
              className={`rounded-md p-3 text-sm ${tooMany ? "bg-rose-50 text-rose-800 dark:bg-rose-950 dark:text-rose-300" : "bg-sky-50 text-sky-900 dark:bg-sky-950 dark:text-sky-200"}`}
              role="status"
              data-testid="combo-count"
            >
              {combos === null ? (
                "Fix the values marked above to count the combinations."
              ) : combos === 0 ? (
                "No param varies yet: give one or more params values."
              ) : (
                <>
                  <strong className="tabular">{countText(counts)}</strong> {combos === 1 ? "combination" : "combinations"} before the constraint
                  {tooMany ? `: more than the ${formatNumber(MAX_GRID_POINTS, 0)} a sweep may span.` : "."}
                  {!tooMany && combos > MAX_COMBOS && !sample ? ` More than ${formatNumber(MAX_COMBOS, 0)} run only with a constraint or a random sample.` : ""}
                </>
              )}
            </p>
            <div className="flex flex-col gap-3 rounded-md border border-slate-200 p-3 dark:border-slate-700">
              <label className="flex items-center gap-2 text-sm font-medium">
                <input type="checkbox" {...register("sample")} />
                Run a random sample of the combinations
              </label>
              {sample && (
                <div className="grid grid-cols-2 gap-4">
                  <Field label="Sample size" htmlFor="n" error={errors.n?.message} hint="Drawn from those meeting the constraint.">
                    <input id="n" type="text" inputMode="numeric" className={`${inputClass} tabular`} {...register("n")} {...described("n", errors.n)} />
                  </Field>
                  <Field label="Seed (optional)" htmlFor="seed" error={errors.seed?.message} hint="The same seed draws the same sample.">
                    <input id="seed" type="text" inputMode="numeric" className={`${inputClass} tabular`} {...register("seed")} {...described("seed", errors.seed)} />
                  </Field>
                </div>
              )}
            </div>
          </fieldset>
        </div>
        <div className="mt-6 flex items-center gap-3 border-t border-slate-200 pt-4 dark:border-slate-800">
          <Button type="submit" variant="primary" disabled={launch.isPending || !stored || paramNames.length === 0}>
            {launch.isPending ? "Starting…" : "Start sweep"}
          </Button>
          <ButtonLink href="/sweeps">Back to sweeps</ButtonLink>
        </div>
      </form>
    </Card>
  );
}

