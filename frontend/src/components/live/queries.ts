"use client";
// The live overview's server state (TanStack Query) and the stream events that keep it current.

import { useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef } from "react";

import { useStreamEvents } from "@/components/stream-provider";
import { get } from "@/lib/api";
import type { Account, ActiveStrategy, Page, Schemas, Strategy } from "@/lib/types";

import { applyPrice, type CandleEvent, mergeSignal } from "./model";

export type Signal = Schemas["Signal"];

export const liveKeys = {
  all: ["live"] as const,
  active: ["live", "strategies"] as const,
  positions: ["live", "positions"] as const,
  signals: ["live", "signals"] as const,
  stopped: ["live", "stopped"] as const,
  feed: ["live", "feed"] as const,
};

export const strategiesKey = ["strategies", "all"] as const;

const PER_PAGE = 100;
const MAX_PAGES = 20;

/** Every stored strategy (by name), paging through the API: the start form's choices and id → name. */
export async function allStrategies(): Promise<Strategy[]> {
  const items: Strategy[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const answer = await get<Page<Strategy>>("/strategies", { page, per_page: PER_PAGE });
    items.push(...answer.items);
    if (answer.items.length < PER_PAGE || items.length >= answer.total) break;
  }
  return items;
}

export function useStrategies() {
  return useQuery({ queryKey: strategiesKey, queryFn: allStrategies, staleTime: 30_000 });
}

/** Strategy id → name, for tables and cards (the id itself until the names arrive). */
export function useStrategyNames(): (id: string) => string {
  const { data } = useStrategies();
  return useCallback(
    (id: string) => {
      const found = data?.find((strategy) => strategy.id === id);
      return found?.name || id;
    },
    [data],
  );
}

export function useActive() {
  return useQuery({ queryKey: liveKeys.active, queryFn: () => get<ActiveStrategy[]>("/live/strategies") });
}

export function usePositions() {
  return useQuery({ queryKey: liveKeys.positions, queryFn: () => get<Account[]>("/live/positions") });
}

export function useSignals() {
  return useQuery({ queryKey: liveKeys.signals, queryFn: () => get<Signal[]>("/live/signals") });
}

/** After a start or a stop: what trades, its accounts and the strategies' live states. */
export function refreshLive(client: QueryClient): Promise<void> {
  return Promise.all([
    client.invalidateQueries({ queryKey: liveKeys.active }),
    client.invalidateQueries({ queryKey: liveKeys.positions }),
    client.invalidateQueries({ queryKey: liveKeys.signals }),
    client.invalidateQueries({ queryKey: ["strategies"] }),
  ]).then(() => undefined);
}

/**
 * Keeps the overview current without polling: a candle close re-prices the accounts on its symbol in the
 * cache; a signal replaces its strategy's and symbol's; an order, fill or skipped entry refetches the
 * accounts and the latest signals (one refetch for a burst of them).
 */
export function useLiveUpdates(): void {
  const client = useQueryClient();
  const timer = useRef<number | null>(null);
  useEffect(() => () => {
    if (timer.current !== null) window.clearTimeout(timer.current);
  }, []);

  useStreamEvents(["candle", "signal", "order", "fill", "skipped"], (event) => {
    if (event.type === "candle") {
      const candle = event.data as CandleEvent;
      client.setQueryData<Account[]>(liveKeys.positions, (accounts) => (accounts ? applyPrice(accounts, candle.symbol, candle.c) : accounts));
    } else if (event.type === "signal") {
      client.setQueryData<Signal[]>(liveKeys.signals, (signals) => (signals ? mergeSignal(signals, event.data as Signal) : signals));
    } else {
      if (timer.current !== null) return;
      timer.current = window.setTimeout(() => {
        timer.current = null;
        void client.invalidateQueries({ queryKey: liveKeys.positions });
        void client.invalidateQueries({ queryKey: liveKeys.signals });
      }, 150);
    }
  });
}
