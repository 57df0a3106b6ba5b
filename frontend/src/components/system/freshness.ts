// How fresh each live symbol's feed is: the age of its last tick, flagged stale past a limit.

import { formatDuration } from "@/lib/format";
import type { Schemas } from "@/lib/types";

export type SymbolFreshness = Schemas["SymbolFreshness"];

/** Older than this, a symbol's feed is flagged: two 1m periods (the only period every live symbol has). */
export const STALE_AFTER_S = 120;

export interface FreshnessRow {
  symbol: string;
  lastTick: number | null;
  /** Seconds since the last tick now (the API's age plus the time since it answered), null without a tick. */
  age: number | null;
  state: "fresh" | "stale" | "none";
}

/** The API's freshness rows aged to ``now`` (``answeredAt``: when the API measured them), stalest first. */
export function freshnessRows(symbols: SymbolFreshness[], answeredAt: number, now: number): FreshnessRow[] {
  const elapsed = Math.max(0, (now - answeredAt) / 1000);
  return symbols
    .map((row): FreshnessRow => {
      const age = row.age_s === null || row.age_s === undefined ? null : row.age_s + elapsed;
      return { symbol: row.symbol, lastTick: row.last_tick ?? null, age, state: age === null ? "none" : age > STALE_AFTER_S ? "stale" : "fresh" };
    })
    .sort((a, b) => (b.age ?? Infinity) - (a.age ?? Infinity) || a.symbol.localeCompare(b.symbol));
}

/** An age in seconds as "42 s", "3m 5s", "2h 10m". */
export function formatAge(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "—";
  return seconds < 60 ? `${Math.floor(seconds)} s` : formatDuration(seconds * 1000);
}
