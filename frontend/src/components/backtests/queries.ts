// The strategies a backtest can run (every page of GET /strategies), for the launch form and the filters.

import { useQuery } from "@tanstack/react-query";

import { get } from "@/lib/api";
import type { Page, Strategy } from "@/lib/types";

export const STRATEGIES_KEY = ["strategies", "all"] as const;
const PER_PAGE = 100; // the API's most

export async function allStrategies(): Promise<Strategy[]> {
  const strategies: Strategy[] = [];
  for (let page = 1; ; page++) {
    const answer = await get<Page<Strategy>>("/strategies", { page, per_page: PER_PAGE });
    strategies.push(...answer.items);
    if (answer.items.length < PER_PAGE || strategies.length >= answer.total) return strategies;
  }
}

export function useStrategies() {
  return useQuery({ queryKey: STRATEGIES_KEY, queryFn: allStrategies, staleTime: 30_000 });
}

/** What the launch form reads from a strategy's spec. */
export interface SpecTarget {
  symbols: string[];
  timeframe: string;
  params: Record<string, number>;
}

export function specTarget(strategy: Strategy | undefined): SpecTarget {
  const spec = (strategy?.spec ?? {}) as { symbols?: unknown; timeframe?: unknown; params?: unknown };
  const symbols = Array.isArray(spec.symbols) ? spec.symbols.filter((symbol): symbol is string => typeof symbol === "string") : [];
  const params: Record<string, number> = {};
  if (spec.params && typeof spec.params === "object") {
    for (const [name, value] of Object.entries(spec.params as Record<string, unknown>)) {
      if (typeof value === "number") params[name] = value;
    }
  }
  return { symbols, timeframe: typeof spec.timeframe === "string" ? spec.timeframe : "", params };
}
