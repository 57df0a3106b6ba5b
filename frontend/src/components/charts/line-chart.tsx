"use client";
// Curves over time (equity against buy-and-hold, normalised runs to compare), with an optional drawdown pane.

import { AreaSeries, createChart, LineSeries } from "lightweight-charts";
import { useEffect, useRef } from "react";

import { useSettings } from "@/lib/settings";

import { themeOptions, timeOptions, toChartTime } from "./time";

export interface Curve {
  name: string;
  t: number[];
  values: (number | null)[];
  color?: string;
}

const PALETTE = ["#2563eb", "#64748b", "#f59e0b", "#10b981", "#a855f7", "#ef4444", "#0ea5e9", "#ec4899"];

export function LineChart({ curves, drawdown, height = 300, label }: {
  curves: Curve[];
  /** A curve of fractions (≤ 0) drawn underwater in a pane below. */
  drawdown?: Curve;
  height?: number;
  label: string;
}) {
  const container = useRef<HTMLDivElement>(null);
  const { zone, theme } = useSettings();
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const chart = createChart(element, { height, autoSize: true, ...themeOptions(theme === "dark"), ...timeOptions(zone) });
    curves.forEach((curve, index) => {
      const series = chart.addSeries(LineSeries, { color: curve.color ?? PALETTE[index % PALETTE.length], lineWidth: 2, title: curve.name, priceLineVisible: false });
      series.setData(curve.t.map((t, i) => (curve.values[i] === null ? { time: toChartTime(t) } : { time: toChartTime(t), value: curve.values[i] as number })));
    });
    if (drawdown) {
      const series = chart.addSeries(
        AreaSeries,
        {
          lineColor: "#dc2626",
          topColor: "rgba(220, 38, 38, 0.05)",
          bottomColor: "rgba(220, 38, 38, 0.4)",
          invertFilledArea: true,
          title: drawdown.name,
          priceFormat: { type: "percent" },
          priceLineVisible: false,
        },
        1,
      );
      series.setData(drawdown.t.map((t, i) => ({ time: toChartTime(t), value: (drawdown.values[i] ?? 0) * 100 })));
      chart.panes()[1]?.setHeight(Math.round(height / 3));
    }
    chart.timeScale().fitContent();
    return () => chart.remove();
  }, [curves, drawdown, height, theme, zone]);
  return <div ref={container} role="figure" aria-label={label} className="w-full" style={{ height }} />;
}
