// The runs list's filters (kept in the URL) and what a `job` event changes in a page of runs.

import type { BacktestSummary, Page } from "@/lib/types";

export const STATES = ["queued", "running", "done", "failed", "cancelled"] as const;
export type RunState = (typeof STATES)[number];
export const FINAL_STATES: ReadonlySet<string> = new Set(["done", "failed", "cancelled"]);
export const PER_PAGE = 20;

export interface RunFilters {
  strategy_id?: string;
  symbol?: string;
  state?: RunState;
  page: number;
}

/** The filters of ``/backtests?strategy_id=&symbol=&state=&page=``; anything malformed is left out. */
export function filtersFromSearch(search: URLSearchParams): RunFilters {
  const filters: RunFilters = { page: 1 };
  const strategy = search.get("strategy_id")?.trim();
  if (strategy) filters.strategy_id = strategy;
  const symbol = search.get("symbol")?.trim().toUpperCase();
  if (symbol) filters.symbol = symbol;
  const state = search.get("state");
  if (state && (STATES as readonly string[]).includes(state)) filters.state = state as RunState;
  const page = Number(search.get("page"));
  if (Number.isInteger(page) && page > 1) filters.page = page;
  return filters;
}

/** The query string of ``filters`` (without "?"); page 1 and empty filters are left out. */
export function searchFromFilters(filters: RunFilters): string {
  const search = new URLSearchParams();
  if (filters.strategy_id) search.set("strategy_id", filters.strategy_id);
  if (filters.symbol) search.set("symbol", filters.symbol);
  if (filters.state) search.set("state", filters.state);
  if (filters.page > 1) search.set("page", String(filters.page));
  return search.toString();
}

/** A ``job`` event of the live stream (docs/api.md, "Live stream"). */
export interface JobEvent {
  kind: "backtest" | "sweep";
  id: string;
  state: string;
  stage: string;
  chunks_done: number;
  chunks_total: number;
  error?: string;
}

export function isJobEvent(data: unknown): data is JobEvent {
  const event = data as Partial<JobEvent> | null;
  return typeof event === "object" && event !== null && typeof event.id === "string" && typeof event.state === "string" && typeof event.kind === "string";
}

/**
 * A page of runs with a backtest's ``job`` event applied: the run's state, its stage and its error.
 * ``found`` says whether the run is on the page; ``refetch`` whether the page must be read again
 * (a run not on it may belong there now; a finished run has stats the event does not carry).
 */
export function applyJobEvent(page: Page<BacktestSummary>, event: JobEvent): { page: Page<BacktestSummary>; found: boolean; refetch: boolean } {
  const index = page.items.findIndex((run) => run.id === event.id);
  if (index < 0) return { page, found: false, refetch: true };
  const run = page.items[index];
  const stage = event.stage === "finished" ? event.state : event.stage;
  const updated: BacktestSummary = {
    ...run,
    state: event.state as BacktestSummary["state"],
    progress: { ...(run.progress ?? {}), stage },
    ...(event.error ? { error: event.error } : {}),
  };
  const items = [...page.items];
  items[index] = updated;
  return { page: { ...page, items }, found: true, refetch: FINAL_STATES.has(event.state) };
}

/** What the state column says: the state, and while running the stage it is in. */
export function stateLabel(run: Pick<BacktestSummary, "state" | "progress">): string {
  const state = run.state ?? "queued";
  const stage = typeof run.progress?.stage === "string" ? run.progress.stage : undefined;
  if (state === "running" && stage && stage !== "running") return `running: ${stage}`;
  return state;
}

/** A run's params as "fast=5, slow=20". */
export function paramsText(params: Record<string, unknown> | undefined): string {
  return Object.entries(params ?? {})
    .map(([name, value]) => `${name}=${String(value)}`)
    .join(", ");
}
