"use client";
// ECharts, tree-shaken to what TickFlow draws: the sweep heatmap, monthly returns and histograms. It is loaded
// when the first such chart mounts, not with the page: half a megabyte that a page's first paint never needs.

import type { EChartsCoreOption } from "echarts/core";
import { useEffect, useRef } from "react";

import { useSettings } from "@/lib/settings";

export type EChartOption = EChartsCoreOption;

let loading: Promise<typeof import("echarts/core")> | null = null;

function loadECharts() {
  loading ??= Promise.all([
    import("echarts/core"),
    import("echarts/charts"),
    import("echarts/components"),
    import("echarts/renderers"),
  ]).then(([core, charts, components, renderers]) => {
    core.use([
      charts.HeatmapChart,
      charts.BarChart,
      components.GridComponent,
      components.TooltipComponent,
      components.VisualMapComponent,
      renderers.CanvasRenderer,
    ]);
    return core;
  });
  return loading;
}

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
    let dispose = () => {};
    let cancelled = false;
    void loadECharts().then((echarts) => {
      if (cancelled) return;
      const chart = echarts.init(element, theme === "dark" ? "dark" : undefined, { renderer: "canvas" });
      chart.setOption({ backgroundColor: "transparent", ...option });
      element.dataset.ready = "true";
      chart.on("click", (params) => clicked.current?.(params as unknown as { data: unknown; dataIndex: number }));
      const observer = new ResizeObserver(() => chart.resize());
      observer.observe(element);
      dispose = () => {
        observer.disconnect();
        chart.dispose();
      };
    });
    return () => {
      cancelled = true;
      delete element.dataset.ready;
      dispose();
    };
  }, [option, theme]);
  return <div ref={container} role="figure" aria-label={label} className="w-full" style={{ height }} />;
}
