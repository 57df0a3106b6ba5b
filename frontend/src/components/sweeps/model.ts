// A sweep as its pages show it: progress by chunks (moved on by `job` events), the objective's label and units,
// and the backtest request of one parameter set.

import { type JobEvent } from "@/components/backtests/runs";
import { STAT_ROWS } from "@/components/backtests/stats";
import { formatNumber } from "@/lib/format";
import type { Schemas, Sweep, SweepSummary } from "@/lib/types";

export type SweepResult = Schemas["Result"];

export const FINAL = new Set(["done", "failed", "cancelled"]);

export const STATE_TONES: Record<string, "slate" | "green" | "red" | "amber" | "sky"> = {
  queued: "slate",
  running: "sky",
  done: "green",
  failed: "red",
  cancelled: "amber",
};

export interface SweepProgress {
  chunksDone: number;
  chunksTotal: number;
  chunksRunning: number;
  chunksQueued: number;
  chunksFailed: number;
  combosDone: number | null;
  combos: number | null;
  /** 0 to 1, by chunks. */
  fraction: number;
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

export function progressOf(sweep: Pick<SweepSummary, "progress" | "chunks_total" | "combos" | "state">): SweepProgress {
  const progress = (sweep.progress ?? {}) as Record<string, unknown>;
  const chunksTotal = count(progress.chunks_total) || count(sweep.chunks_total);
  const chunksDone = count(progress.chunks_done);
  return {
    chunksDone,
    chunksTotal,
    chunksRunning: count(progress.chunks_running),
    chunksQueued: count(progress.chunks_queued),
    chunksFailed: count(progress.chunks_failed),
    combosDone: typeof progress.combos_done === "number" ? progress.combos_done : null,
    combos: typeof sweep.combos === "number" ? sweep.combos : null,
    fraction: sweep.state === "done" ? 1 : chunksTotal ? Math.min(1, chunksDone / chunksTotal) : 0,
  };
}

/** A sweep with a `job` event of its own applied: its state, and chunks done (which only grow). */
export function applySweepJob<T extends Pick<SweepSummary, "id" | "state" | "progress" | "error">>(sweep: T, event: JobEvent): T {
  if (event.kind !== "sweep" || event.id !== sweep.id) return sweep;
  const progress = { ...(sweep.progress ?? {}) } as Record<string, unknown>;
  if (typeof event.chunks_done === "number") progress.chunks_done = Math.max(count(progress.chunks_done), event.chunks_done);
  if (typeof event.chunks_total === "number" && event.chunks_total > 0) progress.chunks_total = event.chunks_total;
  return {
    ...sweep,
    state: event.state as T["state"],
    progress,
    ...(event.error ? { error: event.error } : {}),
  };
}

/** The objectives a sweep may rank by: every stat a backtest reports (strategies/stats.py), best first. */
export const OBJECTIVES = STAT_ROWS.map((row) => ({ key: row.key, label: row.label, better: row.better }));

export function objectiveLabel(key: string): string {
  return STAT_ROWS.find((row) => row.key === key)?.label ?? key.replaceAll("_", " ");
}

/** An objective's value with its unit ("1.23", "+12.30 %", "3h 20m"). */
export function formatObjective(key: string, value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const row = STAT_ROWS.find((item) => item.key === key);
  return row ? row.format(value) : formatNumber(value, 2);
}

/** Which way an objective is usually better: minimise the ones where lower wins (volatility, commission). */
export function defaultDirection(key: string): "max" | "min" {
  return STAT_ROWS.find((row) => row.key === key)?.better === "lower" ? "min" : "max";
}

/** A parameter set as "fast=5, slow=20", in the sweep's order of params. */
export function paramsLabel(params: Record<string, unknown>, order: string[] = Object.keys(params)): string {
  const names = [...order.filter((name) => name in params), ...Object.keys(params).filter((name) => !order.includes(name))];
  return names.map((name) => `${name}=${String(params[name])}`).join(", ");
}

/** The swept params, in the sweep's order (its ``space``). */
export function sweptParams(sweep: Pick<Sweep, "space">): string[] {
  return Object.keys(sweep.space ?? {});
}

export interface BacktestRequest {
  strategy_id: string;
  symbol?: string;
  start?: number;
  end?: number;
  cash?: number;
  params: Record<string, number>;
}

/**
 * ``POST /backtests`` for one parameter set of a sweep: its strategy, symbol, range and cash, the params the
 * sweep ran with (its own, then the set's).
 */
export function backtestRequest(sweep: Pick<Sweep, "strategy_id" | "symbol" | "start" | "end" | "cash" | "params">, params: Record<string, unknown>): BacktestRequest {
  const numbers = (source: Record<string, unknown> | undefined) =>
    Object.fromEntries(Object.entries(source ?? {}).filter((entry): entry is [string, number] => typeof entry[1] === "number" && Number.isFinite(entry[1])));
  const request: BacktestRequest = { strategy_id: sweep.strategy_id ?? "", params: { ...numbers(sweep.params), ...numbers(params) } };
  if (sweep.symbol) request.symbol = sweep.symbol;
  if (typeof sweep.start === "number") request.start = sweep.start;
  if (typeof sweep.end === "number") request.end = sweep.end;
  if (typeof sweep.cash === "number") request.cash = sweep.cash;
  return request;
}

/** The best result's objective, as the sweeps list shows it. */
export function bestValue(sweep: Pick<SweepSummary, "best" | "objective">): number | null {
  const best = sweep.best as SweepResult | null | undefined;
  const value = best?.stats?.[sweep.objective ?? ""];
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}
