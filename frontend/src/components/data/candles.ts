// Stored candles as the data page and the launch form use them: timeframes, series, a page as chart columns.

import type { CandleColumns } from "@/components/charts/candle-chart";
import { formatNumber } from "@/lib/format";
import type { Schemas } from "@/lib/types";

export type Series = Schemas["Series"];
export type StoredCandle = Schemas["Candle"];
export type ImportSummary = Schemas["ImportSummary"];

export const TIMEFRAMES = ["1m", "5m", "15m", "30m", "1h", "4h", "1d"] as const;

export const TIMEFRAME_MS: Record<string, number> = {
  "1m": 60_000,
  "5m": 300_000,
  "15m": 900_000,
  "30m": 1_800_000,
  "1h": 3_600_000,
  "4h": 14_400_000,
  "1d": 86_400_000,
};

/** Candles in the preview chart. */
export const PREVIEW_CANDLES = 500;

/** The first open time to ask for to get the last ``count`` candles of a series (fewer where it has gaps). */
export function previewStart(series: Pick<Series, "first_ts" | "last_ts" | "timeframe">, count = PREVIEW_CANDLES): number | undefined {
  const step = TIMEFRAME_MS[series.timeframe ?? ""];
  if (!step || series.last_ts === undefined) return series.first_ts;
  const start = series.last_ts - (count - 1) * step;
  return series.first_ts !== undefined ? Math.max(series.first_ts, start) : start;
}

/** A page of stored candles as the chart's columns (oldest first, as the API sends them). */
export function candleColumns(items: StoredCandle[]): CandleColumns {
  const columns: CandleColumns = { t: [], o: [], h: [], l: [], c: [], v: [] };
  for (const item of items) {
    if (item.ts === undefined) continue;
    columns.t.push(item.ts);
    columns.o.push(item.open ?? Number.NaN);
    columns.h.push(item.high ?? Number.NaN);
    columns.l.push(item.low ?? Number.NaN);
    columns.c.push(item.close ?? Number.NaN);
    columns.v.push(item.volume ?? 0);
  }
  return columns;
}

/** The stored series of a symbol and timeframe, if any. */
export function findSeries(series: Series[] | undefined, symbol: string | undefined, timeframe: string | undefined): Series | undefined {
  if (!symbol || !timeframe) return undefined;
  const wanted = symbol.trim().toUpperCase();
  return series?.find((item) => item.symbol === wanted && item.timeframe === timeframe);
}

export function seriesKey(series: Pick<Series, "symbol" | "timeframe">): string {
  return `${series.symbol}/${series.timeframe}`;
}

/** "1,440 candles: 1,000 new, 400 updated, 40 unchanged". */
export function summaryCounts(summary: ImportSummary): string {
  const count = (value: number | undefined) => formatNumber(value ?? 0, 0);
  return `${count(summary.received)} candles read: ${count(summary.inserted)} new, ${count(summary.updated)} updated, ${count(summary.unchanged)} unchanged`;
}

/**
 * A symbol and a timeframe read from a file's name where it names both ("BTCUSDT-1h.csv", "ethusdt_15m_2024.csv"):
 * the timeframe is a part of the name, the symbol its first part.
 */
export function guessFromFileName(name: string): { symbol?: string; timeframe?: string } {
  const parts = name.replace(/\.[^.]*$/, "").split(/[-_ .]+/).filter(Boolean);
  const timeframe = parts.find((part) => (TIMEFRAMES as readonly string[]).includes(part.toLowerCase()))?.toLowerCase();
  if (!timeframe) return {};
  const first = parts[0];
  const symbol = first && first.toLowerCase() !== timeframe && /^[A-Za-z][A-Za-z0-9]{2,29}$/.test(first) ? first.toUpperCase() : undefined;
  return { symbol, timeframe };
}
