"use client";
// The live candle chart: the chart's answer drawn once, then every closed candle of the stream applied to it as it
// arrives (no reload, the view stays where the user left it), topped up from the API after a burst of closes or a
// fill (the forming candle, indicator values, trade markers). Fills show as markers at once.

import { type RefObject, useEffect, useMemo, useRef, useState } from "react";

import { type Candle, CandleChart, type CandleChartHandle, type PriceLineSpec } from "@/components/charts/candle-chart";
import { TIMEFRAME_MS } from "@/components/data/candles";
import { useStreamEvents } from "@/components/stream-provider";
import { formatPrice, formatTime } from "@/lib/format";
import { useSettings } from "@/lib/settings";

import {
  barFromCandle,
  chartColumns,
  chartIndicators,
  type ChartWindow,
  fillMarker,
  formingCandle,
  INITIAL_BARS,
  indicatorValuesAt,
  isCandleEvent,
  isFillEvent,
  liveMarkers,
  type LiveMarker,
  mergeMarkers,
  reasonLabel,
  type StrategyChart,
} from "./model";
import { loadChartTail } from "./queries";
import { useCoalesced } from "./use-coalesced";

/** A bar drawn after the answer, with the indicator values known for it: drawn again if the chart is made anew. */
interface LiveBar {
  bar: Candle;
  indicators?: Record<string, Record<string, number | null>>;
}

const KEEP_LIVE_BARS = 5000;

export function LiveCandles({ strategyId, symbol, window, base, priceLines, label, handleRef, refresh = 0 }: {
  strategyId: string;
  symbol: string;
  window: ChartWindow;
  /** The chart's answer when the page opened (a new one remounts this). */
  base: StrategyChart;
  priceLines: PriceLineSpec[];
  label: string;
  /** Where the chart's handle goes, for the page (to show a trade on the chart). */
  handleRef?: RefObject<CandleChartHandle | null>;
  /** Changed by the page when something else moved the strategy (a start, a stop): read the chart's tail again. */
  refresh?: number;
}) {
  const { zone, theme } = useSettings();
  const own = useRef<CandleChartHandle>(null);
  const handle = handleRef ?? own;
  const wrapper = useRef<HTMLDivElement>(null);
  const timeframeMs = TIMEFRAME_MS[base.timeframe] ?? base.period_ms;
  const periodMs = base.period_ms;
  const candles = useMemo(() => chartColumns(base), [base]);
  const indicators = useMemo(() => chartIndicators(base), [base]);
  const [markers, setMarkers] = useState<LiveMarker[]>(() => liveMarkers(base));

  // The last bar drawn and the last closed candle in it; the bars drawn since the answer.
  const drawn = useRef<{ last: Candle | null; lastClosed: number | null; live: LiveBar[] }>({ last: null, lastClosed: null, live: [] });

  function draw(item: LiveBar): void {
    const chart = handle.current;
    if (!chart) return;
    chart.updateCandle(item.bar);
    if (item.indicators) chart.updateIndicators(item.bar.t, item.indicators);
    const live = drawn.current.live;
    if (live.length && live[live.length - 1].bar.t === item.bar.t) live[live.length - 1] = { bar: item.bar, indicators: item.indicators ?? live[live.length - 1].indicators };
    else live.push(item);
    if (live.length > KEEP_LIVE_BARS) live.splice(0, live.length - KEEP_LIVE_BARS);
    drawn.current.last = item.bar;
    const element = wrapper.current;
    if (element) {
      element.dataset.lastCandle = String(item.bar.t);
      element.dataset.lastClose = String(item.bar.c);
    }
  }

  // The answer's last candle, then the forming one; drawn again (with every live bar) when the chart is made anew
  // for another theme or time zone. Runs after the chart's own effects (a parent's run after its children's).
  useEffect(() => {
    const n = candles.t.length;
    const state = drawn.current;
    if (state.last === null && n) {
      state.last = { t: candles.t[n - 1], o: candles.o[n - 1], h: candles.h[n - 1], l: candles.l[n - 1], c: candles.c[n - 1], v: candles.v[n - 1] };
      state.lastClosed = periodMs <= timeframeMs ? candles.t[n - 1] : null;
      const forming = formingCandle(base);
      if (forming) {
        const bar = barFromCandle(forming, periodMs, timeframeMs, state.last, state.lastClosed);
        if (bar) state.live.push({ bar });
      }
    }
    for (const item of [...state.live]) {
      handle.current?.updateCandle(item.bar);
      if (item.indicators) handle.current?.updateIndicators(item.bar.t, item.indicators);
    }
    if (state.live.length) state.last = state.live[state.live.length - 1].bar;
    if (state.last && wrapper.current) wrapper.current.dataset.lastCandle = String(state.last.t);
    setMarkers((known) => [...known]); // placed again on the bars now drawn
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [base, theme, zone]);

  // Top-up: the newest candles (with their indicator values), the forming candle, markers and fills.
  const topUp = useCoalesced(async () => {
    const state = drawn.current;
    const from = window === "all" || periodMs > timeframeMs ? (base.start ?? null) : state.last ? state.last.t - 2 * periodMs : null;
    const tail = await loadChartTail(strategyId, symbol, from);
    if (tail.period_ms !== periodMs) return; // merged otherwise than drawn: the next visit draws it anew
    const columns = chartColumns(tail);
    for (let i = 0; i < columns.t.length; i++) {
      if (state.last && columns.t[i] < state.last.t) continue;
      const bar = { t: columns.t[i], o: columns.o[i], h: columns.h[i], l: columns.l[i], c: columns.c[i], v: columns.v[i] };
      draw({ bar, indicators: indicatorValuesAt(tail, i) });
      state.lastClosed = periodMs <= timeframeMs ? bar.t : state.lastClosed;
    }
    const forming = formingCandle(tail);
    if (forming && (!state.last || forming.t >= state.last.t || periodMs > timeframeMs)) {
      const bar = periodMs <= timeframeMs ? forming : barFromCandle(forming, periodMs, timeframeMs, state.last, null);
      if (bar) draw({ bar });
    }
    setMarkers((known) => mergeMarkers(known, liveMarkers(tail)));
  }, 150);

  useEffect(() => {
    if (refresh) topUp();
  }, [refresh, topUp]);

  useStreamEvents(["candle", "fill", "order"], (event) => {
    if (event.type === "candle") {
      const candle = event.data;
      if (!isCandleEvent(candle) || candle.symbol !== symbol || candle.timeframe !== base.timeframe) return;
      const state = drawn.current;
      const bar = barFromCandle(candle, periodMs, timeframeMs, state.last, state.lastClosed);
      if (bar) {
        draw({ bar });
        state.lastClosed = candle.t;
        if (wrapper.current) wrapper.current.dataset.lastEventId = event.id;
      }
      topUp();
    } else if (event.type === "fill") {
      const fill = event.data;
      if (!isFillEvent(fill) || fill.strategy_id !== strategyId || fill.symbol !== symbol) return;
      setMarkers((known) => mergeMarkers(known, [fillMarker(fill)]));
      topUp();
    } else {
      const order = event.data as { strategy_id?: string; symbol?: string };
      if (order?.strategy_id === strategyId && order.symbol === symbol) topUp();
    }
  });

  const latest = markers.slice(-6).reverse();
  return (
    <div ref={wrapper} data-testid="live-chart" data-markers={markers.length} data-period={periodMs}>
      <CandleChart ref={handle} candles={candles} indicators={indicators} markers={markers} priceLines={priceLines} height={460} label={label} initialBars={INITIAL_BARS} />
      <div className="mt-3 flex flex-col gap-2 text-sm">
        <p className="text-xs text-slate-500 dark:text-slate-400" data-testid="chart-summary">
          {candles.t.length ? (
            <>
              {periodMs > timeframeMs
                ? `Candles of ${Math.round(periodMs / timeframeMs)} × ${base.timeframe} (all history, merged). `
                : `${base.timeframe} candles. `}
              {base.live_from ? `Stored history, then live from ${formatTime(base.live_from, zone, false)}. ` : "Stored history; live candles are added as they close. "}
              Scroll or drag to see earlier candles.
            </>
          ) : (
            "Candles appear here as they close."
          )}
        </p>
        <div>
          <h3 className="text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400">Fills and trades on the chart ({markers.length})</h3>
          {latest.length === 0 ? (
            <p className="mt-1 text-slate-600 dark:text-slate-400">None yet: fills and trade exits are marked on their candle as they happen.</p>
          ) : (
            <ul className="mt-1 flex flex-wrap gap-2" aria-label="Latest markers">
              {latest.map((marker) => (
                <li key={`${marker.time}:${marker.side}`}>
                  <button
                    type="button"
                    data-testid="chart-marker"
                    data-side={marker.side}
                    onClick={() => handle.current?.focus(marker.time)}
                    className="tabular rounded-md border border-slate-200 px-2 py-1 text-xs hover:bg-slate-50 dark:border-slate-700 dark:hover:bg-slate-800"
                    title="Show on the chart"
                  >
                    <span className={marker.side === "buy" ? "font-semibold text-emerald-700 dark:text-emerald-400" : "font-semibold text-rose-700 dark:text-rose-400"}>
                      {marker.side === "buy" ? "▲" : "▼"} {marker.text}
                    </span>{" "}
                    @ {formatPrice(marker.price)}
                    {marker.reason && !marker.text?.includes(reasonLabel(marker.reason)) ? ` · ${reasonLabel(marker.reason)}` : ""} · {formatTime(marker.time, zone, false)}
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>
    </div>
  );
}
