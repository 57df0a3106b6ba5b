"use client";
// A strategy's live state as a badge ("Live · paper"), and the stream events that tell a list a strategy trades.

import type { QueryClient } from "@tanstack/react-query";

import { Badge } from "@/components/ui";
import { formatMoney, formatTime } from "@/lib/format";
import { useSettings } from "@/lib/settings";
import type { StreamEvent } from "@/lib/stream";
import type { Schemas, Strategy } from "@/lib/types";

export type StrategyLive = Schemas["StrategyLive"];

/** The ``live`` field when the strategy trades (the API gives null, or {} from older answers, otherwise). */
export function liveOf(strategy: Pick<Strategy, "live"> | undefined): StrategyLive | null {
  const live = strategy?.live as StrategyLive | null | undefined;
  return live && live.active ? live : null;
}

export function LiveBadge({ live, detailed = false }: { live: StrategyLive | null; detailed?: boolean }) {
  const { zone } = useSettings();
  if (!live) return null;
  const mode = live.mode || "paper";
  return (
    <span className="inline-flex flex-wrap items-center gap-2" data-testid="live-badge">
      <Badge tone="green">
        <span aria-hidden className="mr-1 inline-block h-1.5 w-1.5 animate-pulse rounded-full bg-emerald-500 align-middle" />
        Live · {mode}
      </Badge>
      {detailed && (
        <span className="text-xs text-slate-600 dark:text-slate-400">
          {live.since ? `since ${formatTime(live.since, zone, false)}` : "since an unknown time"}
          {typeof live.cash === "number" ? ` · ${formatMoney(live.cash)} cash per symbol` : ""}
        </span>
      )}
    </span>
  );
}

export const TRADING_EVENTS = ["signal", "order", "fill"] as const;

/** The strategy an event of the live engine is about (signal, order, fill), if any. */
export function eventStrategy(event: StreamEvent): string | null {
  const data = event.data as { strategy_id?: unknown } | null;
  return data && typeof data.strategy_id === "string" ? data.strategy_id : null;
}

/** A live event from a strategy shown as not trading means the list is out of date: refetch it. */
export function refreshIfNewlyLive(client: QueryClient, event: StreamEvent, shown: readonly Strategy[], queryKey: readonly unknown[]): boolean {
  const id = eventStrategy(event);
  const strategy = id ? shown.find((item) => item.id === id) : undefined;
  if (!strategy || liveOf(strategy)) return false;
  void client.invalidateQueries({ queryKey });
  return true;
}
