// What the result page reads of the API: the run, its chart, a page of its trades, and all its trades (for the
// breakdowns, the histogram and the CSV: pages of 1,000, the API's most, a few at a time).

import { get } from "@/lib/api";
import type { Backtest, Page } from "@/lib/types";

import type { Trade } from "./breakdown";
import type { BacktestChart } from "./chart-data";

export const runKey = (id: string) => ["backtests", "run", id] as const;
export const chartKey = (id: string, range: ChartRange | null, maxBars: number) => ["backtests", "chart", id, range?.start ?? null, range?.end ?? null, maxBars] as const;
export const tradesPageKey = (id: string, page: number) => ["backtests", "trades", id, page] as const;
export const allTradesKey = (id: string, total: number) => ["backtests", "all-trades", id, total] as const;

export const TRADES_PER_PAGE = 50;
export const ALL_TRADES_PAGE = 1000;
const PARALLEL = 4;

export interface ChartRange {
  start: number;
  end: number;
}

export function fetchRun(id: string): Promise<Backtest> {
  return get<Backtest>(`/backtests/${id}`);
}

/** When each chart body was asked for (performance.now(), by its query key): the page times its draws from it. */
export const chartRequests = new Map<string, number>();

export function chartQuery(id: string, range: ChartRange | null, maxBars: number) {
  const queryKey = chartKey(id, range, maxBars);
  return {
    queryKey,
    queryFn: () => {
      chartRequests.set(JSON.stringify(queryKey), performance.now());
      return get<BacktestChart>(`/backtests/${id}/chart`, { max_bars: maxBars, start: range?.start, end: range?.end });
    },
    staleTime: Infinity, // a done run's chart never changes
  };
}

export function fetchTradesPage(id: string, page: number, perPage = TRADES_PER_PAGE): Promise<Page<Trade>> {
  return get<Page<Trade>>(`/backtests/${id}/trades`, { page, per_page: perPage });
}

/** Every closed trade of a run, in order: ``total`` of them (the run's ``n_trades``), ``progress`` told as pages arrive. */
export async function fetchAllTrades(
  id: string,
  total: number,
  progress?: (read: number, total: number) => void,
  read: (id: string, page: number, perPage: number) => Promise<Page<Trade>> = fetchTradesPage,
): Promise<Trade[]> {
  const pages = Math.ceil(total / ALL_TRADES_PAGE);
  const parts: Trade[][] = new Array(pages);
  let next = 1;
  let done = 0;
  async function worker(): Promise<void> {
    while (next <= pages) {
      const page = next++;
      const answer = await read(id, page, ALL_TRADES_PAGE);
      parts[page - 1] = answer.items;
      done += answer.items.length;
      progress?.(done, total);
    }
  }
  await Promise.all(Array.from({ length: Math.min(PARALLEL, pages) }, worker));
  return parts.flat();
}
