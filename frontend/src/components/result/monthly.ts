// The monthly returns heatmap: months across, years down, the year's return in a column of its own; each cell
// coloured by its sign (green gains, red losses), deeper the further from zero.

import type { EChartOption } from "@/components/charts/echart";
import type { Schemas } from "@/lib/types";

export type MonthlyRow = Schemas["MonthlyReturns"];

export const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
export const YEAR_COLUMN = 12;

export interface MonthlyCell {
  /** 0–11 for a month, YEAR_COLUMN for the year's total. */
  column: number;
  /** Index of the year in ``years``. */
  row: number;
  /** The return, as a fraction. */
  value: number;
}

export interface MonthlyMatrix {
  years: number[];
  cells: MonthlyCell[];
  /** The largest absolute monthly return (colours months), and the largest absolute year total (colours totals). */
  monthScale: number;
  yearScale: number;
}

/** The cells of the heatmap: a cell per month with bars and per year total; months without bars are left out. */
export function monthlyMatrix(rows: MonthlyRow[] | undefined): MonthlyMatrix {
  const sorted = [...(rows ?? [])].filter((row) => typeof row.year === "number").sort((a, b) => (a.year as number) - (b.year as number));
  const cells: MonthlyCell[] = [];
  let monthScale = 0;
  let yearScale = 0;
  sorted.forEach((year, rowIndex) => {
    (year.months ?? []).slice(0, 12).forEach((value, column) => {
      if (typeof value !== "number" || !Number.isFinite(value)) return;
      cells.push({ column, row: rowIndex, value });
      monthScale = Math.max(monthScale, Math.abs(value));
    });
    if (typeof year.total === "number" && Number.isFinite(year.total)) {
      cells.push({ column: YEAR_COLUMN, row: rowIndex, value: year.total });
      yearScale = Math.max(yearScale, Math.abs(year.total));
    }
  });
  return { years: sorted.map((row) => row.year as number), cells, monthScale, yearScale };
}

type Rgb = [number, number, number];
const GAIN: Rgb = [5, 150, 105]; // emerald-600
const LOSS: Rgb = [220, 38, 38]; // red-600
const BASE_LIGHT: Rgb = [241, 245, 249]; // slate-100
const BASE_DARK: Rgb = [30, 41, 59]; // slate-800

function hex([r, g, b]: Rgb): string {
  return `#${[r, g, b].map((part) => Math.round(part).toString(16).padStart(2, "0")).join("")}`;
}

/**
 * A cell's colour: the theme's neutral at zero, towards green for a gain and red for a loss, at full strength
 * for the largest magnitude (``scale``). A tiny move still shows its sign: at least 15 % of the way.
 */
export function returnColor(value: number, scale: number, dark = false): { fill: string; text: string } {
  const base = dark ? BASE_DARK : BASE_LIGHT;
  if (value === 0 || !Number.isFinite(value)) return { fill: hex(base), text: dark ? "#e2e8f0" : "#0f172a" };
  const target = value > 0 ? GAIN : LOSS;
  const strength = scale > 0 ? Math.min(1, Math.max(0.15, Math.abs(value) / scale)) : 1;
  const mix = base.map((part, index) => part + (target[index] - part) * strength) as Rgb;
  // Dark text on the pale cells, white on the deep ones (and on every dark-theme cell).
  const text = dark || strength > 0.55 ? "#ffffff" : "#0f172a";
  return { fill: hex(mix), text };
}

/** "+2.1 %", "−0.4 %": a cell's label. */
export function cellLabel(value: number): string {
  const percent = value * 100;
  const digits = Math.abs(percent) >= 100 ? 0 : 1;
  const sign = percent < 0 ? "−" : percent > 0 ? "+" : "";
  return `${sign}${Math.abs(percent).toFixed(digits)} %`;
}

/** The ECharts option drawing the matrix. */
export function monthlyOption(matrix: MonthlyMatrix, dark = false): EChartOption {
  const data = matrix.cells.map((cell) => {
    const color = returnColor(cell.value, cell.column === YEAR_COLUMN ? matrix.yearScale : matrix.monthScale, dark);
    return {
      value: [cell.column, cell.row, cell.value],
      itemStyle: { color: color.fill, borderColor: dark ? "#0f172a" : "#ffffff", borderWidth: cell.column === YEAR_COLUMN ? 3 : 1 },
      label: { color: color.text, fontWeight: cell.column === YEAR_COLUMN ? "bold" : "normal" },
    };
  });
  return {
    animation: false,
    grid: { left: 56, right: 12, top: 8, bottom: 28 },
    tooltip: {
      formatter: (params: { value: [number, number, number] }) => {
        const [column, row, value] = params.value;
        const year = matrix.years[row];
        return column === YEAR_COLUMN ? `${year}: ${cellLabel(value)}` : `${MONTH_NAMES[column]} ${year}: ${cellLabel(value)}`;
      },
    },
    xAxis: { type: "category", data: [...MONTHS, "Year"], splitArea: { show: false }, axisTick: { show: false }, axisLine: { show: false } },
    yAxis: { type: "category", data: matrix.years.map(String), inverse: true, axisTick: { show: false }, axisLine: { show: false } },
    series: [
      {
        type: "heatmap",
        data,
        label: { show: true, formatter: (params: { value: [number, number, number] }) => cellLabel(params.value[2]), fontSize: 11 },
        emphasis: { itemStyle: { borderColor: dark ? "#e2e8f0" : "#0f172a", borderWidth: 2 } },
      },
    ],
  };
}
