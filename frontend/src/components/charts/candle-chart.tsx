"use client";
// Candles with the strategy's indicators (overlays on the price pane, oscillators each in a pane of their own),
// volume, trade markers and price lines: the one time-axis chart of backtest results and live strategies.

import {
  CandlestickSeries,
  createChart,
  createSeriesMarkers,
  HistogramSeries,
  type IChartApi,
  type IPriceLine,
  type ISeriesApi,
  type ISeriesMarkersPluginApi,
  LineSeries,
  type SeriesMarker,
  type Time,
} from "lightweight-charts";
import { forwardRef, useEffect, useImperativeHandle, useRef } from "react";

import { useSettings } from "@/lib/settings";

import { fromChartTime, themeOptions, timeOptions, toChartTime } from "./time";

export interface Candle {
  t: number;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
}

export interface CandleColumns {
  t: number[];
  o: number[];
  h: number[];
  l: number[];
  c: number[];
  v: number[];
}

export interface IndicatorSeries {
  name: string;
  pane: "price" | "separate";
  /** Output name -> a value per candle (null in the warm-up). */
  outputs: Record<string, (number | null)[]>;
}

export interface ChartMarker {
  time: number;
  side: "buy" | "sell";
  text?: string;
}

export interface PriceLineSpec {
  price: number;
  title: string;
  color?: string;
}

export interface CandleChartHandle {
  /** Add or replace the last candle (a live update), keeping the view where the user left it. */
  updateCandle(candle: Candle): void;
  /**
   * Set the indicators' values at a drawn candle (a live update, after ``updateCandle``): indicator name ->
   * output name -> value (null: none yet). Values older than an indicator's last point are ignored.
   */
  updateIndicators(t: number, values: Record<string, Record<string, number | null>>): void;
  /** Centre the view on the bar holding ``ms``. */
  focus(ms: number): void;
}

/** The colours of indicator outputs, in the order they are drawn (one per output, indicators in order). */
export const PALETTE = ["#2563eb", "#f59e0b", "#10b981", "#a855f7", "#ef4444", "#0ea5e9", "#84cc16", "#ec4899"];

/** The time of the candle holding ``ms`` (the last one opened at or before it), or null. */
export function barTime(times: number[], ms: number): number | null {
  let low = 0;
  let high = times.length - 1;
  let found: number | null = null;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (times[middle] <= ms) {
      found = times[middle];
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

export function candleRows(columns: CandleColumns): Candle[] {
  return columns.t.map((t, i) => ({ t, o: columns.o[i], h: columns.h[i], l: columns.l[i], c: columns.c[i], v: columns.v[i] }));
}

export const CandleChart = forwardRef<CandleChartHandle, {
  candles: CandleColumns;
  indicators?: IndicatorSeries[];
  markers?: ChartMarker[];
  priceLines?: PriceLineSpec[];
  height?: number;
  label?: string;
  /** Told the visible time range (epoch ms of the first and last bars shown) whenever it changes. */
  onVisibleRangeChange?: (range: { from: number; to: number } | null) => void;
  /** Show only the last this many candles at first (the user scrolls back for more); all of them when absent. */
  initialBars?: number;
}>(function CandleChart(
  { candles, indicators = [], markers = [], priceLines = [], height = 420, label = "Price chart", onVisibleRangeChange, initialBars },
  ref,
) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | null>(null);
  const price = useRef<ISeriesApi<"Candlestick"> | null>(null);
  const volume = useRef<ISeriesApi<"Histogram"> | null>(null);
  const markerApi = useRef<ISeriesMarkersPluginApi<Time> | null>(null);
  const lines = useRef<IPriceLine[]>([]);
  const times = useRef<number[]>([]);
  const indicatorLines = useRef(new Map<string, { series: ISeriesApi<"Line">; last: number }>());
  const { zone, theme } = useSettings();
  const rangeListener = useRef(onVisibleRangeChange);
  rangeListener.current = onVisibleRangeChange;

  useImperativeHandle(ref, () => ({
    updateCandle(candle) {
      if (!price.current || !volume.current) return;
      const last = times.current[times.current.length - 1];
      if (last !== undefined && candle.t < last) return; // older than what is drawn
      if (last === undefined || candle.t > last) times.current.push(candle.t);
      const time = toChartTime(candle.t);
      price.current.update({ time, open: candle.o, high: candle.h, low: candle.l, close: candle.c });
      volume.current.update({ time, value: candle.v, color: candle.c >= candle.o ? "#10b98155" : "#ef444455" });
    },
    updateIndicators(t, values) {
      const time = toChartTime(t);
      for (const [name, outputs] of Object.entries(values)) {
        for (const [output, value] of Object.entries(outputs)) {
          const line = indicatorLines.current.get(`${name}\u0000${output}`);
          if (!line || time < line.last) continue;
          line.series.update(value === null || !Number.isFinite(value) ? { time } : { time, value });
          line.last = time;
        }
      }
    },
    focus(ms) {
      const bar = barTime(times.current, ms);
      if (bar === null || !chart.current) return;
      const index = times.current.indexOf(bar);
      chart.current.timeScale().setVisibleLogicalRange({ from: index - 60, to: index + 60 });
    },
  }));

  // The chart and its series, made again when the data's shape (indicators) changes.
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const dark = theme === "dark";
    const created = createChart(element, { height, autoSize: true, ...themeOptions(dark), ...timeOptions(zone) });
    chart.current = created;
    price.current = created.addSeries(CandlestickSeries, {
      upColor: "#10b981",
      downColor: "#ef4444",
      borderVisible: false,
      wickUpColor: "#10b981",
      wickDownColor: "#ef4444",
    });
    volume.current = created.addSeries(HistogramSeries, { priceScaleId: "volume", priceFormat: { type: "volume" }, lastValueVisible: false, priceLineVisible: false });
    created.priceScale("volume").applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    markerApi.current = createSeriesMarkers(price.current, []);
    created.timeScale().subscribeVisibleTimeRangeChange((range) =>
      rangeListener.current?.(range ? { from: fromChartTime(range.from), to: fromChartTime(range.to) } : null),
    );
    return () => {
      created.remove();
      chart.current = null;
      price.current = null;
      volume.current = null;
      markerApi.current = null;
      lines.current = [];
    };
  }, [height, theme, zone]);

  useEffect(() => {
    const created = chart.current;
    if (!created || !price.current || !volume.current) return;
    times.current = [...candles.t];
    const chartTimes = candles.t.map(toChartTime);
    price.current.setData(chartTimes.map((time, i) => ({ time, open: candles.o[i], high: candles.h[i], low: candles.l[i], close: candles.c[i] })));
    volume.current.setData(chartTimes.map((time, i) => ({ time, value: candles.v[i], color: candles.c[i] >= candles.o[i] ? "#10b98155" : "#ef444455" })));
    const added: ISeriesApi<"Line">[] = [];
    let pane = 0;
    let color = 0;
    for (const indicator of indicators) {
      const paneIndex = indicator.pane === "price" ? 0 : ++pane;
      for (const [output, values] of Object.entries(indicator.outputs)) {
        const series = created.addSeries(
          LineSeries,
          {
            color: PALETTE[color++ % PALETTE.length],
            lineWidth: 2,
            title: Object.keys(indicator.outputs).length > 1 ? `${indicator.name}.${output}` : indicator.name,
            priceLineVisible: false,
            lastValueVisible: false,
          },
          paneIndex,
        );
        series.setData(chartTimes.flatMap((time, i) => (values[i] === null || values[i] === undefined ? [{ time }] : [{ time, value: values[i] as number }])));
        added.push(series);
        indicatorLines.current.set(`${indicator.name}\u0000${output}`, { series, last: chartTimes[chartTimes.length - 1] ?? 0 });
      }
    }
    if (initialBars && candles.t.length > initialBars) {
      // Room after the last candle, so that it and its markers clear the labels at the price axis.
      created.timeScale().setVisibleLogicalRange({ from: candles.t.length - initialBars, to: candles.t.length + Math.max(2, Math.round(initialBars / 12)) });
    } else {
      created.timeScale().fitContent();
    }
    return () => {
      indicatorLines.current.clear();
      for (const series of added) {
        try {
          created.removeSeries(series);
        } catch {
          // the chart itself was removed first
        }
      }
    };
  }, [candles, indicators, height, theme, zone, initialBars]);

  useEffect(() => {
    if (!markerApi.current) return;
    const shown: SeriesMarker<Time>[] = [];
    for (const marker of markers) {
      // The candles drawn, live updates included (a marker on a candle added since the data was set).
      const bar = barTime(times.current, marker.time);
      if (bar === null) continue;
      shown.push({
        time: toChartTime(bar),
        position: marker.side === "buy" ? "belowBar" : "aboveBar",
        color: marker.side === "buy" ? "#059669" : "#dc2626",
        shape: marker.side === "buy" ? "arrowUp" : "arrowDown",
        text: marker.text,
      });
    }
    shown.sort((a, b) => (a.time as number) - (b.time as number));
    markerApi.current.setMarkers(shown);
  }, [markers, candles, height, theme, zone]);

  useEffect(() => {
    const series = price.current;
    if (!series) return;
    for (const line of lines.current) series.removePriceLine(line);
    lines.current = priceLines.map((line) =>
      series.createPriceLine({ price: line.price, title: line.title, color: line.color ?? "#64748b", lineWidth: 1, lineStyle: 2, axisLabelVisible: true }),
    );
  }, [priceLines, height, theme, zone]);

  return <div ref={container} role="figure" aria-label={label} data-testid="candle-chart" data-bars={candles.t.length} className="w-full" style={{ height }} />;
});
