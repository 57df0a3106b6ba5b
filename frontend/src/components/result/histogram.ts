// Trade PnL in bins for a histogram: round bin widths (1, 2, 2.5 or 5 times a power of ten), zero always on
// an edge, so each bin holds only losses or only gains and is coloured by its sign.

import type { EChartOption } from "@/components/charts/echart";
import { formatNumber } from "@/lib/format";

export interface Bin {
  /** Lower edge, included. */
  from: number;
  /** Upper edge, excluded (included for the last bin). */
  to: number;
  count: number;
  sign: "gain" | "loss";
}

/** The round number at or above ``raw``: 1, 2, 2.5 or 5 times a power of ten. */
export function niceStep(raw: number): number {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const factor of [1, 2, 2.5, 5, 10]) {
    if (raw <= factor * power * (1 + 1e-9)) return factor * power;
  }
  return 10 * power;
}

/** About √n bins, between 5 and 30. */
export function binTarget(n: number): number {
  return Math.min(30, Math.max(5, Math.ceil(Math.sqrt(n))));
}

/** The PnL values in bins of a round width; empty without a finite value. */
export function pnlBins(values: number[], target = binTarget(values.length)): Bin[] {
  const finite = values.filter((value) => Number.isFinite(value));
  if (!finite.length) return [];
  let min = Infinity;
  let max = -Infinity;
  for (const value of finite) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  const width = niceStep(max > min ? (max - min) / target : Math.max(Math.abs(max), 1) / target);
  const start = Math.floor(min / width) * width;
  const count = Math.max(1, Math.floor((max - start) / width + 1e-9) + 1);
  const bins: Bin[] = Array.from({ length: count }, (_, index) => {
    const from = round(start + index * width, width);
    const to = round(start + (index + 1) * width, width);
    return { from, to, count: 0, sign: to <= 0 ? "loss" : "gain" };
  });
  for (const value of finite) {
    const index = Math.min(count - 1, Math.max(0, Math.floor((value - start) / width + 1e-9)));
    bins[index].count += 1;
  }
  return bins;
}

/** Edges computed as start + i × width, rid of floating-point dust (0.30000000000000004). */
function round(value: number, width: number): number {
  const digits = Math.max(0, -Math.floor(Math.log10(width)) + 2);
  return Number(value.toFixed(Math.min(12, digits)));
}

/** An edge as the axis shows it: the decimals the bin width needs (0.25 → 2, 5 → 0), "−" for minus. */
export function edgeText(value: number, width: number): string {
  let digits = 0;
  if (width > 0 && Number.isFinite(width)) {
    const power = Math.floor(Math.log10(width) + 1e-9);
    const factor = width / 10 ** power;
    digits = Math.min(8, Math.max(0, -power + (Math.abs(factor - 2.5) < 1e-6 ? 1 : 0)));
  }
  const text = formatNumber(Math.abs(value), digits);
  return value < 0 && Number(text.replaceAll(",", "")) !== 0 ? `−${text}` : text;
}

export function binLabel(bin: Bin): string {
  const width = bin.to - bin.from;
  return `${edgeText(bin.from, width)} to ${edgeText(bin.to, width)}`;
}

/** The ECharts option drawing the bins (``unit``: the quote currency, for the axis name). */
export function histogramOption(bins: Bin[], unit: string, dark = false): EChartOption {
  const axisName = dark ? "#cbd5e1" : "#334155";
  return {
    animation: false,
    grid: { left: 48, right: 12, top: 28, bottom: 56 },
    tooltip: {
      trigger: "axis",
      axisPointer: { type: "shadow" },
      formatter: (params: { dataIndex: number }[]) => {
        const bin = bins[params[0]?.dataIndex ?? 0];
        return bin ? `PnL ${binLabel(bin)}${unit ? ` ${unit}` : ""}: ${bin.count} ${bin.count === 1 ? "trade" : "trades"}` : "";
      },
    },
    xAxis: {
      type: "category",
      data: bins.map(binLabel),
      name: `PnL per trade${unit ? ` (${unit})` : ""}`,
      nameLocation: "middle",
      nameGap: 34,
      nameTextStyle: { color: axisName },
      axisLabel: { hideOverlap: true },
      axisTick: { alignWithLabel: true },
    },
    yAxis: { type: "value", name: "Trades", minInterval: 1, nameTextStyle: { color: axisName } },
    series: [
      {
        type: "bar",
        barCategoryGap: "8%",
        data: bins.map((bin) => ({ value: bin.count, itemStyle: { color: bin.sign === "gain" ? "#10b981" : "#ef4444" } })),
      },
    ],
  };
}
