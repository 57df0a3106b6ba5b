// The live chart's data: the strategy chart's answer as chart inputs, closed candles from the stream merged into
// the bars drawn, markers from trades and fills, and price lines from the open position. Pure, unit-tested beside.

import type { Candle, CandleColumns, ChartMarker, IndicatorSeries, PriceLineSpec } from "@/components/charts/candle-chart";
import { formatPrice, formatQuantity } from "@/lib/format";
import type { Account, Schemas, TradeLog } from "@/lib/types";

export type StrategyChart = Schemas["StrategyChart"];

/** Candles drawn at most, and in the recent view how many of the timeframe's bars are asked for. */
export const MAX_BARS = 2000;
/** Candles in view when the chart opens (the rest is a scroll away). */
export const INITIAL_BARS = 180;

export type ChartWindow = "recent" | "all";

/** A closed candle of the stream (`candle` event). */
export interface CandleEvent extends Candle {
  symbol: string;
  timeframe: string;
}

/** A fill of the stream (`fill` event). */
export interface FillEvent {
  client_order_id: string;
  strategy_id: string;
  symbol: string;
  ts: number;
  side: "buy" | "sell";
  size: number;
  price: number;
  commission: number;
}

export function isCandleEvent(data: unknown): data is CandleEvent {
  const event = data as Partial<CandleEvent> | null;
  return (
    typeof event === "object" && event !== null && typeof event.symbol === "string" && typeof event.timeframe === "string" &&
    [event.t, event.o, event.h, event.l, event.c, event.v].every((value) => typeof value === "number" && Number.isFinite(value))
  );
}

export function isFillEvent(data: unknown): data is FillEvent {
  const event = data as Partial<FillEvent> | null;
  return typeof event === "object" && event !== null && typeof event.strategy_id === "string" && typeof event.symbol === "string" &&
    typeof event.ts === "number" && (event.side === "buy" || event.side === "sell");
}

/** The answer's candle columns, each column present (the schema marks them optional). */
export function chartColumns(chart: Pick<StrategyChart, "candles">): CandleColumns {
  const { t = [], o = [], h = [], l = [], c = [], v = [] } = chart.candles;
  return { t, o, h, l, c, v };
}

/** The forming candle, or null (the API sends null or an empty object without one). */
export function formingCandle(chart: Pick<StrategyChart, "forming">): Candle | null {
  const forming = chart.forming as Partial<Candle> | null | undefined;
  if (!forming || typeof forming.t !== "number") return null;
  const { t, o, h, l, c, v } = forming;
  if (![o, h, l, c].every((value) => typeof value === "number" && Number.isFinite(value))) return null;
  return { t, o: o as number, h: h as number, l: l as number, c: c as number, v: typeof v === "number" ? v : 0 };
}

/** The indicators as the chart draws them, in the spec's order. */
export function chartIndicators(chart: Pick<StrategyChart, "indicators">): IndicatorSeries[] {
  return Object.entries(chart.indicators).map(([name, indicator]) => ({ name, pane: indicator.pane, outputs: indicator.outputs }));
}

/** Every indicator's values at candle ``index`` of the answer: name -> output -> value. */
export function indicatorValuesAt(chart: Pick<StrategyChart, "indicators">, index: number): Record<string, Record<string, number | null>> {
  const values: Record<string, Record<string, number | null>> = {};
  for (const [name, indicator] of Object.entries(chart.indicators)) {
    values[name] = Object.fromEntries(Object.entries(indicator.outputs).map(([output, series]) => [output, series[index] ?? null]));
  }
  return values;
}

/**
 * The bar a closed candle of the timeframe makes of the last bar drawn, when bars are periods of
 * ``periodMs`` (the timeframe itself, or a multiple once the API merged them): its own bar when the period is the
 * timeframe, else merged into the period it opens in. ``last`` is the last bar drawn and ``lastClosed`` the open time
 * of the last closed candle merged into it (so a candle is never counted twice). Null for a candle older than
 * what is drawn.
 */
export function barFromCandle(candle: Candle, periodMs: number, timeframeMs: number, last: Candle | null, lastClosed: number | null): Candle | null {
  if (last && candle.t < last.t) return null;
  if (periodMs <= timeframeMs) return { t: candle.t, o: candle.o, h: candle.h, l: candle.l, c: candle.c, v: candle.v };
  const start = Math.floor(candle.t / periodMs) * periodMs;
  if (!last || start > last.t) return { t: start, o: candle.o, h: candle.h, l: candle.l, c: candle.c, v: candle.v };
  if (start < last.t) return null;
  if (lastClosed !== null && candle.t <= lastClosed) return null; // already in it
  return { t: last.t, o: last.o, h: Math.max(last.h, candle.h), l: Math.min(last.l, candle.l), c: candle.c, v: last.v + candle.v };
}

/** The first open time to ask for the last ``bars`` bars of ``timeframeMs`` ending before ``endMs`` (epoch aligned). */
export function recentStart(endMs: number, timeframeMs: number, bars = MAX_BARS): number {
  return Math.floor(endMs / timeframeMs) * timeframeMs - bars * timeframeMs;
}

/** Where the answer's data ends (exclusive): after the forming candle, else after the last candle's period. */
export function chartEnd(chart: Pick<StrategyChart, "candles" | "forming" | "period_ms" | "timeframe">, timeframeMs: number): number | null {
  const forming = formingCandle(chart);
  if (forming) return forming.t + timeframeMs;
  const times = chart.candles.t ?? [];
  return times.length ? times[times.length - 1] + chart.period_ms : null;
}

const REASONS: Record<string, string> = {
  enter_long: "long",
  enter_short: "short",
  signal: "exit",
  stop_loss: "stop loss",
  take_profit: "take profit",
  trailing_stop: "trailing stop",
  reversal: "reversal",
  limit: "loss limit",
  open: "open",
  close: "close",
};

export function reasonLabel(reason: string | undefined): string {
  if (!reason) return "";
  return REASONS[reason] ?? reason.replaceAll("_", " ");
}

/** One marker on the chart, with what the list under it says. */
export interface LiveMarker extends ChartMarker {
  price: number;
  size: number | null;
  kind: "trade" | "fill";
  reason: string;
}

/**
 * The chart's markers: the strategy's trades (entries and exits) and the paper broker's fills, one per time and
 * side (a fill that is a trade's entry or exit is one marker, named by the trade's reason), in time order.
 */
export function liveMarkers(chart: Pick<StrategyChart, "markers" | "fills">): LiveMarker[] {
  const found = new Map<string, LiveMarker>();
  const fills = chart.fills;
  const fillTimes = fills.time ?? [];
  fillTimes.forEach((time, i) => {
    const side = fills.side?.[i];
    if (side !== "buy" && side !== "sell") return;
    const marker: LiveMarker = { time, side, price: fills.price?.[i] ?? Number.NaN, size: fills.size?.[i] ?? null, kind: "fill", reason: fills.reason?.[i] ?? "" };
    found.set(markerKey(marker), marker);
  });
  const trades = chart.markers;
  (trades.time ?? []).forEach((time, i) => {
    const side = trades.side?.[i];
    if (side !== "buy" && side !== "sell") return;
    const reason = trades.reason?.[i] ?? "";
    const known = found.get(markerKey({ time, side }));
    found.set(markerKey({ time, side }), { time, side, price: known?.price ?? trades.price?.[i] ?? Number.NaN, size: known?.size ?? null, kind: known ? "fill" : "trade", reason: reason || known?.reason || "" });
  });
  return [...found.values()]
    .sort((a, b) => a.time - b.time || a.side.localeCompare(b.side))
    .map((marker) => ({ ...marker, text: markerText(marker) }));
}

/** What a marker says on the chart: "buy 0.5" for an entry, the exit's reason otherwise. */
export function markerText(marker: Pick<LiveMarker, "side" | "size" | "reason">): string {
  const reason = reasonLabel(marker.reason);
  const entering = !marker.reason || marker.reason === "open" || marker.reason.startsWith("enter_");
  if (entering) return marker.size !== null ? `${marker.side} ${formatQuantity(marker.size)}` : marker.side;
  return reason;
}

/** The open position's account on ``symbol`` of the strategy, or null when flat or unknown. */
export function openAccount(accounts: Account[] | undefined, strategyId: string, symbol: string): Account | null {
  const account = accounts?.find((item) => item.strategy_id === strategyId && item.symbol === symbol);
  return account && account.side !== "flat" && account.entry_price !== null ? account : null;
}

/** The open trade record of the strategy on ``symbol`` (its stop and target), the newest if several. */
export function openTrade(trades: TradeLog[] | undefined, symbol: string): TradeLog | null {
  const open = (trades ?? []).filter((trade) => trade.symbol === symbol && trade.status === "open");
  open.sort((a, b) => (b.entry_time ?? 0) - (a.entry_time ?? 0));
  return open[0] ?? null;
}

export const LINE_COLORS = { entry: "#2563eb", stop: "#dc2626", target: "#059669" };

/** Price lines at the open position's entry, stop and target (each when known). */
export function priceLines(account: Account | null, trade: TradeLog | null): PriceLineSpec[] {
  const lines: PriceLineSpec[] = [];
  const entry = account?.entry_price ?? trade?.entry_price ?? null;
  if (entry === null || entry === undefined || !Number.isFinite(entry)) return lines;
  const side = account?.side ?? trade?.side ?? "";
  const size = account?.size ?? trade?.size;
  lines.push({ price: entry, title: `Entry ${side}${size !== undefined ? ` ${formatQuantity(size)}` : ""}`.trim(), color: LINE_COLORS.entry });
  if (typeof trade?.stop === "number" && Number.isFinite(trade.stop)) lines.push({ price: trade.stop, title: "Stop", color: LINE_COLORS.stop });
  if (typeof trade?.target === "number" && Number.isFinite(trade.target)) lines.push({ price: trade.target, title: "Target", color: LINE_COLORS.target });
  return lines;
}

/** "long 0.5 @ 60,123.45" for the position strip. */
export function positionText(account: Account | null): string {
  if (!account) return "flat";
  return `${account.side} ${formatQuantity(account.size)} @ ${formatPrice(account.entry_price)}`;
}

function markerKey(marker: Pick<LiveMarker, "time" | "side">): string {
  return `${marker.time}:${marker.side}`;
}

/**
 * ``known`` with ``added`` merged in, one marker per time and side, in time order: a newer marker replaces one at
 * the same place, except that a bare fill (from the stream, without a reason yet) does not replace a named one.
 */
export function mergeMarkers(known: LiveMarker[], added: LiveMarker[]): LiveMarker[] {
  const merged = new Map(known.map((marker) => [markerKey(marker), marker]));
  for (const marker of added) {
    const there = merged.get(markerKey(marker));
    if (there && marker.kind === "fill" && !marker.reason && there.reason) continue;
    merged.set(markerKey(marker), marker);
  }
  return [...merged.values()].sort((a, b) => a.time - b.time || a.side.localeCompare(b.side));
}

/** A fill of the stream as a marker, until the chart's next answer names it. */
export function fillMarker(fill: FillEvent): LiveMarker {
  const marker: LiveMarker = { time: fill.ts, side: fill.side, price: fill.price, size: fill.size, kind: "fill", reason: "" };
  return { ...marker, text: markerText(marker) };
}
