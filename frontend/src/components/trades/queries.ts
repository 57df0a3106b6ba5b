"use client";
// The journal's reads: one page of trades, and every trade of a filter (paged through, up to a cap) for the
// CSV export and the realised PnL curve. Fills on the stream refresh them.

import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";

import { useStreamEvents } from "@/components/stream-provider";
import { get } from "@/lib/api";
import type { Schemas, TradeLog } from "@/lib/types";

import type { TradeQuery } from "./filters";

export type TradePage = Schemas["LiveTradePage"];

export const PER_PAGE = 50;
const FETCH_PAGE = 500; // the API's largest page
/** How many trades an export or the curve reads at most (newest first): 40 requests of 500. */
export const MAX_ROWS = 20_000;

export function useTradePage(query: TradeQuery, page: number) {
  return useQuery({
    queryKey: ["trades", "page", query, page],
    queryFn: () => get<TradePage>("/trades", { ...query, page, per_page: PER_PAGE }),
    placeholderData: keepPreviousData,
  });
}

export interface AllTrades {
  items: TradeLog[];
  total: number;
  /** More matched than ``MAX_ROWS``: ``items`` holds the newest. */
  truncated: boolean;
}

/** Every trade matching ``query``, newest first, up to ``cap``; ``onProgress`` hears rows read so far. */
export async function fetchAllTrades(query: TradeQuery, cap = MAX_ROWS, onProgress?: (read: number, total: number) => void): Promise<AllTrades> {
  const items: TradeLog[] = [];
  let total = 0;
  for (let page = 1; items.length < cap; page++) {
    const answer = await get<TradePage>("/trades", { ...query, page, per_page: FETCH_PAGE });
    total = answer.total;
    items.push(...answer.items);
    onProgress?.(Math.min(items.length, cap), total);
    if (answer.items.length < FETCH_PAGE || items.length >= total) break;
  }
  return { items: items.slice(0, cap), total, truncated: total > cap };
}

/** The closed trades of a filter, for the realised PnL curve. */
export function useClosedTrades(query: TradeQuery, enabled: boolean) {
  const closed = { ...query, status: "closed" as const };
  return useQuery({
    queryKey: ["trades", "closed", closed],
    queryFn: () => fetchAllTrades(closed),
    enabled,
    placeholderData: keepPreviousData,
    staleTime: 30_000,
  });
}

/** A fill opens or closes a trade; its record reaches MongoDB just after, so refetch a moment later. */
export function useTradeUpdates(): void {
  const client = useQueryClient();
  const timer = useRef<number | null>(null);
  useEffect(() => () => {
    if (timer.current !== null) window.clearTimeout(timer.current);
  }, []);
  useStreamEvents(["fill"], () => {
    if (timer.current !== null) return;
    timer.current = window.setTimeout(() => {
      timer.current = null;
      void client.invalidateQueries({ queryKey: ["trades"] });
    }, 1500);
  });
}
