// The sweep heatmap: the API's matrix as ECharts data (the best cell marked), a cell's params, and the colours
// running from worst to best whichever way the objective is ranked.

import type { EChartOption } from "@/components/charts/echart";
import type { Schemas } from "@/lib/types";

export type Heatmap = Schemas["Heatmap"];

/** The plot's margins in pixels, fixed so that every heatmap lays out alike (and a cell's place is known). */
export const HEATMAP_GRID = { left: 72, right: 110, top: 16, bottom: 56 };

/** A cell: its column (x) and row (y) indices and value. */
export interface HeatmapCell {
  x: number;
  y: number;
  value: number;
}

/** Every cell with a value, as [x index, y index, value]: ``z`` has a row per y value and a column per x value. */
export function heatmapCells(map: Pick<Heatmap, "z">): HeatmapCell[] {
  const cells: HeatmapCell[] = [];
  map.z.forEach((row, y) =>
    row.forEach((value, x) => {
      if (value !== null && value !== undefined && Number.isFinite(value)) cells.push({ x, y, value });
    }),
  );
  return cells;
}

/** The indices of the best cell (the API's ``best``), or null when there is none or it is not on the axes. */
export function bestCell(map: Pick<Heatmap, "x" | "y" | "best">): { x: number; y: number } | null {
  const best = map.best as Schemas["HeatmapBest"] | null | undefined;
  if (!best || typeof best.x !== "number" || typeof best.y !== "number") return null;
  const x = map.x.values.indexOf(best.x);
  const y = map.y.values.indexOf(best.y);
  return x < 0 || y < 0 ? null : { x, y };
}

/** The params of a cell: its x and y values, the other swept params at the values the heatmap holds them. */
export function cellParams(map: Pick<Heatmap, "x" | "y" | "fixed">, x: number, y: number): Record<string, number> {
  return { ...map.fixed, [map.x.param]: map.x.values[x], [map.y.param]: map.y.values[y] };
}

/** The value at a cell, or null (none: left out, refused, not run yet). */
export function cellValue(map: Pick<Heatmap, "z">, x: number, y: number): number | null {
  const value = map.z[y]?.[x];
  return value === null || value === undefined || !Number.isFinite(value) ? null : value;
}

/** A value on an axis as it reads: no float noise ("0.30000000000000004" is "0.3"). */
export function axisLabel(value: number): string {
  return String(Number(value.toPrecision(12)));
}

const WORST_TO_BEST = ["#b91c1c", "#f97316", "#fde047", "#86efac", "#15803d"];

/** A cell's text colour: white on the dark ends of the scale (deep red, deep green), dark in between. */
export function labelColor(value: number, min: number, max: number): string {
  const place = max > min ? (value - min) / (max - min) : 0.5;
  return place < 0.2 || place > 0.8 ? "#ffffff" : "#0f172a";
}

/**
 * The ECharts option of a heatmap: categories on both axes (x across, y up), a colour scale from the worst value to
 * the best (reversed when the sweep minimises), the best cell outlined and starred, the selected cell outlined.
 */
export function heatmapOption(
  map: Heatmap,
  { format, objectiveLabel, dark = false, selected = null }: { format: (value: number) => string; objectiveLabel: string; dark?: boolean; selected?: { x: number; y: number } | null },
): EChartOption {
  const cells = heatmapCells(map);
  const values = cells.map((cell) => cell.value);
  const min = values.length ? Math.min(...values) : 0;
  const max = values.length ? Math.max(...values) : 1;
  const best = bestCell(map);
  const ink = dark ? "#f8fafc" : "#0f172a";
  const showLabels = map.x.values.length <= 12 && map.y.values.length <= 16;
  const data = cells.map((cell) => {
    const isBest = best !== null && best.x === cell.x && best.y === cell.y;
    const isSelected = selected !== null && selected.x === cell.x && selected.y === cell.y;
    return {
      value: [cell.x, cell.y, cell.value],
      ...(isBest || isSelected ? { itemStyle: { borderColor: isBest ? ink : "#0ea5e9", borderWidth: isBest ? 3 : 2 } } : {}),
      label: {
        color: labelColor(cell.value, min, max),
        ...(isBest ? { show: true, formatter: `★ ${format(cell.value)}`, fontWeight: "bold" } : {}),
      },
    };
  });
  const axis = (param: string, categories: number[], position: "x" | "y") => ({
    type: "category",
    name: param,
    nameLocation: "middle",
    nameGap: position === "x" ? 32 : 52,
    nameTextStyle: { fontWeight: "bold", color: ink },
    data: categories.map(axisLabel),
    splitArea: { show: true },
    axisLabel: { color: ink, hideOverlap: true },
  });
  return {
    animation: false,
    grid: { ...HEATMAP_GRID, outerBoundsMode: "none" },
    tooltip: {
      position: "top",
      formatter: (params: { value: [number, number, number] }) => {
        const [x, y, value] = params.value;
        return `${map.x.param} = ${axisLabel(map.x.values[x])}<br/>${map.y.param} = ${axisLabel(map.y.values[y])}<br/>${objectiveLabel}: <b>${format(value)}</b>`;
      },
    },
    xAxis: axis(map.x.param, map.x.values, "x"),
    yAxis: axis(map.y.param, map.y.values, "y"),
    visualMap: {
      min,
      max: max === min ? min + 1 : max,
      calculable: false,
      orient: "vertical",
      right: 8,
      top: "middle",
      itemHeight: 160,
      text: [map.maximize ? "best" : "worst", map.maximize ? "worst" : "best"],
      textStyle: { color: ink },
      inRange: { color: map.maximize ? WORST_TO_BEST : [...WORST_TO_BEST].reverse() },
      formatter: (value: number) => format(value),
    },
    series: [
      {
        type: "heatmap",
        data,
        label: { show: showLabels, formatter: (params: { value: [number, number, number] }) => format(params.value[2]), fontSize: 11 },
        emphasis: { itemStyle: { borderColor: ink, borderWidth: 2 } },
      },
    ],
  };
}
