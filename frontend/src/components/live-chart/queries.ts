"use client";
// The live chart page's reads: the strategy, its chart (stored history, live tail, forming candle), its trades and
// open trades, its live equity history and its venue orders.

import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { TIMEFRAME_MS } from "@/components/data/candles";
import { get } from "@/lib/api";
import type { Schemas, Strategy } from "@/lib/types";

import { chartEnd, type ChartWindow, MAX_BARS, recentStart, type StrategyChart } from "./model";

export type TradePage = Schemas["LiveTradePage"];
export type EquityHistory = Schemas["EquityHistory"];
export type OrderPage = Schemas["OrderPage"];

export const liveChartKeys = {
  strategy: (id: string) => ["strategies", "one", id] as const,
  chart: (id: string, symbol: string, window: ChartWindow) => ["live-chart", "chart", id, symbol, window] as const,
  trades: (id: string, symbol: string) => ["live-chart", "trades", id, symbol] as const,
  openTrades: (id: string) => ["live-chart", "open-trades", id] as const,
  equity: (id: string) => ["live-chart", "equity", id] as const,
  orders: (id: string) => ["live-chart", "orders", id] as const,
};

export function useStrategy(id: string) {
  return useQuery({ queryKey: liveChartKeys.strategy(id), queryFn: () => get<Strategy>(`/strategies/${encodeURIComponent(id)}`) });
}

function chartPath(id: string): string {
  return `/strategies/${encodeURIComponent(id)}/chart`;
}

/**
 * The chart to draw. ``all``: every candle, merged into longer periods when there are more than ``MAX_BARS``.
 * ``recent``: the same when it fits; otherwise the last ``MAX_BARS`` bars of the timeframe itself, so live candles
 * are drawn one by one.
 */
export async function loadChart(id: string, symbol: string, window: ChartWindow): Promise<StrategyChart> {
  const whole = await get<StrategyChart>(chartPath(id), { symbol, max_bars: MAX_BARS });
  const timeframeMs = TIMEFRAME_MS[whole.timeframe];
  if (window === "all" || !timeframeMs || whole.period_ms <= timeframeMs) return whole;
  const end = chartEnd(whole, timeframeMs);
  if (end === null) return whole;
  return get<StrategyChart>(chartPath(id), { symbol, max_bars: MAX_BARS, start: recentStart(end, timeframeMs) });
}

/** The chart from ``start`` on (the newest candles, the forming one, markers and fills there): a live top-up. */
export function loadChartTail(id: string, symbol: string, start: number | null): Promise<StrategyChart> {
  return get<StrategyChart>(chartPath(id), { symbol, max_bars: MAX_BARS, start: start ?? undefined });
}

/** Drawn once per visit; live changes are applied to the chart, not by reading this again. */
export function useChart(id: string, symbol: string, window: ChartWindow, enabled: boolean) {
  return useQuery({
    queryKey: liveChartKeys.chart(id, symbol, window),
    queryFn: () => loadChart(id, symbol, window),
    enabled,
    staleTime: Infinity,
    gcTime: 0,
    refetchOnWindowFocus: false,
    refetchOnReconnect: false,
    retry: false,
  });
}

export const TRADES_SHOWN = 50;

export function useTrades(id: string, symbol: string) {
  return useQuery({
    queryKey: liveChartKeys.trades(id, symbol),
    queryFn: () => get<TradePage>("/trades", { strategy_id: id, symbol, per_page: TRADES_SHOWN }),
    placeholderData: keepPreviousData,
  });
}

export function useOpenTrades(id: string) {
  return useQuery({
    queryKey: liveChartKeys.openTrades(id),
    queryFn: () => get<TradePage>("/trades", { strategy_id: id, status: "open", per_page: 100 }),
  });
}

export function useEquityHistory(id: string) {
  return useQuery({
    queryKey: liveChartKeys.equity(id),
    queryFn: () => get<EquityHistory>("/live/equity/history", { strategy_id: id }),
  });
}

export const ORDERS_SHOWN = 50;

/** The strategy's venue orders, newest candle first. ``poll``: read again every so often (while it trades live,
 * for what no stream event announces, a rejection). */
export function useVenueOrders(id: string, poll: boolean) {
  return useQuery({
    queryKey: liveChartKeys.orders(id),
    queryFn: () => get<OrderPage>("/orders", { strategy_id: id, per_page: ORDERS_SHOWN }),
    placeholderData: keepPreviousData,
    refetchInterval: poll ? 5_000 : false,
  });
}
