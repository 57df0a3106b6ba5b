"use client";
// ECharts, tree-shaken to what TickFlow draws: the sweep heatmap, monthly returns and histograms.

import { BarChart, HeatmapChart } from "echarts/charts";
import { GridComponent, TooltipComponent, VisualMapComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";
import { useEffect, useRef } from "react";

import { useSettings } from "@/lib/settings";

echarts.use([HeatmapChart, BarChart, GridComponent, TooltipComponent, VisualMapComponent, CanvasRenderer]);

export type EChartOption = echarts.EChartsCoreOption;

export function EChart({ option, height = 320, label, onClick }: {
  option: EChartOption;
  height?: number;
  label: string;
  onClick?: (params: { data: unknown; dataIndex: number }) => void;
}) {
  const container = useRef<HTMLDivElement>(null);
  const { theme } = useSettings();
  const clicked = useRef(onClick);
  clicked.current = onClick;
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const chart = echarts.init(element, theme === "dark" ? "dark" : undefined, { renderer: "canvas" });
    chart.setOption({ backgroundColor: "transparent", ...option });
    chart.on("click", (params) => clicked.current?.(params as unknown as { data: unknown; dataIndex: number }));
    const observer = new ResizeObserver(() => chart.resize());
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.dispose();
    };
  }, [option, theme]);
  return <div ref={container} role="figure" aria-label={label} className="w-full" style={{ height }} />;
}
