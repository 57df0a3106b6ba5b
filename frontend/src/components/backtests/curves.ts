// Equity curves for the comparison: fewer points (drawn alike), and normalised to 100 at their first point.

import type { Curve } from "@/components/charts/line-chart";

export interface EquityCurve {
  ts: number[];
  equity: number[];
}

/** At most this many points per curve: a chart is no wider than a few thousand pixels. */
export const MAX_POINTS = 2000;

/**
 * Indices of at most ``maxPoints`` points that draw like the whole curve: each bucket keeps its lowest
 * and highest point, so every peak and trough survives, and the first and last points are always kept
 * (strategies/stats.py's chart_indices, for an API that sent the whole curve).
 */
export function decimate(values: number[], maxPoints = MAX_POINTS): number[] {
  const n = values.length;
  if (n <= maxPoints) return values.map((_, index) => index);
  const buckets = Math.max(1, Math.floor((maxPoints - 2) / 2));
  const width = Math.ceil(n / buckets);
  const kept = new Set<number>([0, n - 1]);
  for (let start = 0; start < n; start += width) {
    let low = start;
    let high = start;
    for (let i = start + 1; i < Math.min(start + width, n); i++) {
      if (values[i] < values[low]) low = i;
      if (values[i] > values[high]) high = i;
    }
    kept.add(low);
    kept.add(high);
  }
  return [...kept].sort((a, b) => a - b);
}

/** The curve scaled so that its first point is 100 (a run that doubled ends at 200), thinned to ``maxPoints``. */
export function normalisedCurve(name: string, curve: EquityCurve, maxPoints = MAX_POINTS): Curve {
  const first = curve.equity.find((value) => Number.isFinite(value) && value !== 0);
  const indices = decimate(curve.equity, maxPoints);
  return {
    name,
    t: indices.map((index) => curve.ts[index]),
    values: indices.map((index) => (first === undefined || !Number.isFinite(curve.equity[index]) ? null : (curve.equity[index] / first) * 100)),
  };
}

const ID = /^[0-9a-f]{24}$/i;
export const MAX_COMPARED = 8;

/** The run ids of ``?ids=a,b,c``: well-formed ObjectIds, each once, at most ``MAX_COMPARED``. */
export function parseIds(param: string | null): string[] {
  const ids: string[] = [];
  for (const part of (param ?? "").split(",")) {
    const id = part.trim().toLowerCase();
    if (ID.test(id) && !ids.includes(id)) ids.push(id);
  }
  return ids.slice(0, MAX_COMPARED);
}
