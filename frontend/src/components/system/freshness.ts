// How fresh each live symbol's feed is: the age of its last tick, flagged stale past a limit.

import { TIMEFRAME_MS } from "@/components/data/candles";
import { formatDuration } from "@/lib/format";
import type { Schemas } from "@/lib/types";

export type SymbolFreshness = Schemas["SymbolFreshness"];

/** A symbol is stale after this many periods of the shortest timeframe it is traded on without a tick (as the API
 * flags it, tickflow.storage.liveness). */
export const STALE_PERIODS = 2;

export interface FreshnessRow {
  symbol: string;
  lastTick: number | null;
  /** Seconds since the last tick now (the API's age plus the time since it answered), null without a tick. */
  age: number | null;
  state: "fresh" | "stale" | "none";
}

/** Seconds without a tick after which a symbol traded on ``timeframe`` is stale. */
export function staleAfterS(timeframe: string): number {
  return (STALE_PERIODS * (TIMEFRAME_MS[timeframe] ?? TIMEFRAME_MS["1m"])) / 1000;
}

/** The API's freshness rows aged to ``now`` (``answeredAt``: when the API measured them), stalest first. A symbol
 * without a tick is stale once the API says so (its strategies have waited too long). */
export function freshnessRows(symbols: SymbolFreshness[], answeredAt: number, now: number): FreshnessRow[] {
  const elapsed = Math.max(0, (now - answeredAt) / 1000);
  return symbols
    .map((row): FreshnessRow => {
      const age = row.age_s === null || row.age_s === undefined ? null : row.age_s + elapsed;
      const state = age === null ? (row.stale ? "stale" : "none") : age > staleAfterS(row.timeframe) ? "stale" : "fresh";
      return { symbol: row.symbol, lastTick: row.last_tick ?? null, age, state };
    })
    .sort((a, b) => (b.age ?? Infinity) - (a.age ?? Infinity) || a.symbol.localeCompare(b.symbol));
}

/** An age in seconds as "42 s", "3m 5s", "2h 10m". */
export function formatAge(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "—";
  return seconds < 60 ? `${Math.floor(seconds)} s` : formatDuration(seconds * 1000);
}
