"use client";
// Starting and stopping strategies, and the session's list of strategies stopped here (their cards stay,
// so they can be started again from them).

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { post } from "@/lib/api";
import type { Schemas } from "@/lib/types";

import { liveKeys, refreshLive } from "./queries";

export interface StoppedStrategy {
  strategyId: string;
  cash: number;
  stoppedAt: number;
}

export function useStart() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ strategyId, cash, mode = "paper" }: { strategyId: string; cash: number; mode?: "paper" | "live" }) =>
      post<Schemas["Started"]>(`/strategies/${encodeURIComponent(strategyId)}/start`, { mode, cash }),
    onSuccess: (_started, { strategyId }) => {
      client.setQueryData<StoppedStrategy[]>(liveKeys.stopped, (stopped) => (stopped ?? []).filter((item) => item.strategyId !== strategyId));
      return refreshLive(client);
    },
  });
}

export function useStop() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ strategyId, closePositions }: { strategyId: string; closePositions: boolean; cash: number }) =>
      post<Schemas["Stopped"]>(`/strategies/${encodeURIComponent(strategyId)}/stop`, { close_positions: closePositions }),
    onSuccess: (_stopped, { strategyId, cash }) => {
      rememberStopped(client, [{ strategyId, cash, stoppedAt: Date.now() }]);
      return refreshLive(client);
    },
  });
}

export function rememberStopped(client: ReturnType<typeof useQueryClient>, items: StoppedStrategy[]): void {
  const ids = new Set(items.map((item) => item.strategyId));
  client.setQueryData<StoppedStrategy[]>(liveKeys.stopped, (stopped) => [...items, ...(stopped ?? []).filter((item) => !ids.has(item.strategyId))]);
}

/** Strategies stopped from this tab since it loaded, newest first (kept in the query cache, not fetched). */
export function useStopped() {
  return useQuery<StoppedStrategy[]>({
    queryKey: liveKeys.stopped,
    queryFn: () => [],
    initialData: [],
    staleTime: Infinity,
    gcTime: Infinity,
  });
}
