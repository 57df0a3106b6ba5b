// What the candle chart draws of GET /backtests/{id}/chart: the indicators in their panes, the trades as markers
// (entries and exits), and a legend whose colours match the chart's.

import { type ChartMarker, type IndicatorSeries, PALETTE } from "@/components/charts/candle-chart";
import type { Schemas } from "@/lib/types";

import type { Trade } from "./breakdown";

export type BacktestChart = Schemas["BacktestChart"];
export type ChartMarkers = Schemas["ChartMarkers"];

/** The chart's detail choices: at most this many candles (the API merges bars beyond). */
export const DETAIL_CHOICES = [2_000, 5_000, 20_000] as const;
export const DEFAULT_MAX_BARS = 2_000;

/** ``?bars=`` of the page's URL, when it is one of the choices. */
export function maxBarsFromSearch(value: string | null): number {
  const wanted = Number(value);
  return (DETAIL_CHOICES as readonly number[]).includes(wanted) ? wanted : DEFAULT_MAX_BARS;
}

/** Markers are named ("Long", "Stop"...) when the view holds at most this many: more, and labels hide the candles. */
export const LABELLED_MARKERS = 40;

const MARKER_TEXT: Record<string, string> = {
  enter_long: "Long",
  enter_short: "Short",
  signal: "Exit",
  stop_loss: "Stop",
  take_profit: "Target",
  trailing_stop: "Trail",
  reversal: "Reverse",
  end: "Open",
  limit: "Limit",
};

/** The API's marker columns as the chart's markers: buys below the bar, sells above, named by their reason if ``withText``. */
export function chartMarkers(columns: ChartMarkers | undefined, withText = true): ChartMarker[] {
  const times = columns?.time ?? [];
  const markers: ChartMarker[] = [];
  times.forEach((time, index) => {
    const side = columns?.side?.[index];
    if (side !== "buy" && side !== "sell") return;
    const reason = columns?.reason?.[index] ?? "";
    markers.push(withText ? { time, side, text: MARKER_TEXT[reason] ?? reason } : { time, side });
  });
  return markers;
}

/** The chart's indicators, by name, in the order the spec lists them. */
export function indicatorSeries(indicators: BacktestChart["indicators"] | undefined): IndicatorSeries[] {
  return Object.entries(indicators ?? {}).map(([name, indicator]) => ({ name, pane: indicator.pane, outputs: indicator.outputs }));
}

export interface LegendItem {
  label: string;
  color: string;
  pane: "price" | "separate";
}

/** "fast · SMA(timeperiod=10)": one item per line drawn, in the colours CandleChart gives them (one per output, in order). */
export function indicatorLegend(indicators: BacktestChart["indicators"] | undefined): LegendItem[] {
  const items: LegendItem[] = [];
  let color = 0;
  for (const [name, indicator] of Object.entries(indicators ?? {})) {
    const params = Object.entries(indicator.params ?? {})
      .map(([param, value]) => `${param}=${value}`)
      .join(", ");
    const outputs = Object.keys(indicator.outputs ?? {});
    for (const output of outputs) {
      const line = outputs.length > 1 ? `${name}.${output}` : name;
      items.push({ label: `${line} · ${indicator.function}(${params})`, color: PALETTE[color++ % PALETTE.length], pane: indicator.pane });
    }
  }
  return items;
}

/** Indicator panes below the candles: the chart grows by this much for each, so the candles keep their room. */
export function chartHeight(indicators: BacktestChart["indicators"] | undefined, base = 440, perPane = 150): number {
  const separate = Object.values(indicators ?? {}).filter((indicator) => indicator.pane === "separate").length;
  return base + separate * perPane;
}

/** The time a trade's row centres the chart on: halfway through it (its entry for one without an exit). */
export function tradeCentre(trade: Pick<Trade, "entry_time" | "exit_time">): number | null {
  const entry = trade.entry_time;
  if (typeof entry !== "number") return null;
  const exit = typeof trade.exit_time === "number" && trade.exit_time >= entry ? trade.exit_time : entry;
  return Math.round((entry + exit) / 2);
}

/**
 * Whether the chart loaded covers ``ms`` (its first candle to the end of its last period). A trade outside it
 * (the chart zoomed in on a range) needs the whole run loaded before it can be centred.
 */
export function covers(chart: Pick<BacktestChart, "candles" | "period_ms"> | undefined, ms: number): boolean {
  const times = chart?.candles?.t ?? [];
  if (!times.length) return false;
  return ms >= times[0] && ms < times[times.length - 1] + (chart?.period_ms ?? 0);
}

/** How many of ``times`` (ascending) fall in ``[from, to]``: the markers a view shows. */
export function countBetween(times: number[] | undefined, from: number, to: number): number {
  if (!times?.length || to < from) return 0;
  const lowerBound = (value: number) => {
    let low = 0;
    let high = times.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (times[middle] < value) low = middle + 1;
      else high = middle;
    }
    return low;
  };
  return lowerBound(to + 1) - lowerBound(from);
}
