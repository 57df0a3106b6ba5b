"use client";
// Sweeps' reads and the one write they share: "backtest these params".

import { keepPreviousData, useMutation, useQuery } from "@tanstack/react-query";
import { useRouter } from "next/navigation";

import { get, post } from "@/lib/api";
import type { Backtest, Page, Sweep, SweepSummary } from "@/lib/types";

import type { Heatmap } from "./heatmap";
import { backtestRequest, type SweepResult } from "./model";

export const RESULTS_PER_PAGE = 20;
export const SWEEPS_PER_PAGE = 20;

export const sweepKeys = {
  all: ["sweeps"] as const,
  list: (page: number) => ["sweeps", "list", page] as const,
  one: (id: string) => ["sweeps", "one", id] as const,
  results: (id: string) => ["sweeps", "results", id] as const,
  heatmap: (id: string) => ["sweeps", "heatmap", id] as const,
};

export function useSweepList(page: number) {
  return useQuery({
    queryKey: sweepKeys.list(page),
    queryFn: () => get<Page<SweepSummary>>("/sweeps", { page, per_page: SWEEPS_PER_PAGE }),
    placeholderData: keepPreviousData,
  });
}

export function useSweep(id: string) {
  return useQuery({ queryKey: sweepKeys.one(id), queryFn: () => get<Sweep>(`/sweeps/${encodeURIComponent(id)}`) });
}

export function useResults(id: string, page: number) {
  return useQuery({
    queryKey: [...sweepKeys.results(id), page],
    queryFn: () => get<Page<SweepResult>>(`/sweeps/${encodeURIComponent(id)}/results`, { page, per_page: RESULTS_PER_PAGE }),
    placeholderData: keepPreviousData,
  });
}

export function useHeatmap(id: string, x: string, y: string, objective: string, enabled: boolean) {
  return useQuery({
    queryKey: [...sweepKeys.heatmap(id), x, y, objective],
    queryFn: () => get<Heatmap>(`/sweeps/${encodeURIComponent(id)}/heatmap`, { x, y, objective }),
    enabled,
    placeholderData: keepPreviousData,
  });
}

/** "Backtest these params": a run of the sweep's strategy, symbol, range and cash with one parameter set; then its page. */
export function useBacktestParams(sweep: Sweep | undefined) {
  const router = useRouter();
  return useMutation({
    mutationFn: (params: Record<string, unknown>) => {
      if (!sweep) throw new Error("The sweep is not loaded yet.");
      return post<Backtest>("/backtests", backtestRequest(sweep, params));
    },
    onSuccess: (run) => router.push(`/backtests/${run.id}`),
  });
}
