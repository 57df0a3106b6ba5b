// The sweep form's rules: a param's values as typed (a list "5,10,15" or a range "start:stop:step"), the number of
// combinations they make, the request they become, and where the API's 422 messages go.

import type { TimeZoneChoice } from "@/lib/format";
import { dayStartMs, nextDayStartMs } from "@/components/backtests/launch";

/** The most values one param may take (backtests/defaults.py, MAX_VALUES). */
export const MAX_VALUES = 1000;
/** The most grid points a sweep may span, and parameter sets it may run (MAX_GRID_POINTS, MAX_COMBOS). */
export const MAX_GRID_POINTS = 1_000_000;
export const MAX_COMBOS = 100_000;

export type ParsedValues =
  | { kind: "none" }
  | { kind: "list"; values: number[]; count: number }
  | { kind: "range"; start: number; stop: number; step: number; count: number }
  | { kind: "error"; message: string };

function number(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === "") return null;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : null;
}

/** The values of a range, as the API counts them: ``start``, ``start + step`` ... up to ``stop`` included. */
export function rangeCount(start: number, stop: number, step: number): number {
  return Math.floor((stop - start) / step + 1e-9) + 1;
}

/**
 * A param's values as typed: empty (not swept: the strategy's own value), a list ("5, 10, 15"; repeats count
 * once) or a range ("5:50:5" is 5, 10 ... 50, the stop included; "5:10" steps by 1).
 */
export function parseValues(text: string): ParsedValues {
  const trimmed = text.trim();
  if (trimmed === "") return { kind: "none" };
  if (trimmed.includes(":")) {
    const parts = trimmed.split(":");
    if (parts.length < 2 || parts.length > 3) return { kind: "error", message: "A range is start:stop or start:stop:step" };
    const [start, stop, step] = [number(parts[0]), number(parts[1]), parts.length === 3 ? number(parts[2]) : 1];
    if (start === null || stop === null || step === null) return { kind: "error", message: "A range is start:stop or start:stop:step, all numbers" };
    if (step <= 0) return { kind: "error", message: "The step must be more than 0" };
    if (stop < start) return { kind: "error", message: "The stop must not be below the start" };
    const count = rangeCount(start, stop, step);
    if (count > MAX_VALUES) return { kind: "error", message: `${count.toLocaleString("en-US")} values, at most ${MAX_VALUES.toLocaleString("en-US")}` };
    return { kind: "range", start, stop, step, count };
  }
  const values: number[] = [];
  for (const part of trimmed.split(/[,;\s]+/)) {
    if (part === "") continue;
    const value = number(part);
    if (value === null) return { kind: "error", message: `“${part}” is not a number` };
    if (!values.includes(value)) values.push(value);
  }
  if (values.length === 0) return { kind: "none" };
  if (values.length > MAX_VALUES) return { kind: "error", message: `${values.length.toLocaleString("en-US")} values, at most ${MAX_VALUES.toLocaleString("en-US")}` };
  return { kind: "list", values, count: values.length };
}

/** How many values a row gives (0 when not swept or wrong). */
export function valueCount(parsed: ParsedValues): number {
  return parsed.kind === "list" || parsed.kind === "range" ? parsed.count : 0;
}

/** The parameter sets the grid makes before the constraint: the product of the swept rows' counts; null when a row is wrong. */
export function combinationCount(rows: ParsedValues[]): number | null {
  if (rows.some((row) => row.kind === "error")) return null;
  const swept = rows.filter((row) => row.kind !== "none");
  return swept.length ? swept.reduce((product, row) => product * valueCount(row), 1) : 0;
}

export type GridValue = number | number[] | { start: number; stop: number; step: number };

/** The request's ``grid``: each swept param as a value, a list or a range (rows left empty or wrong are left out). */
export function gridRequest(texts: Record<string, string | undefined>): Record<string, GridValue> {
  const grid: Record<string, GridValue> = {};
  for (const [name, text] of Object.entries(texts)) {
    const parsed = parseValues(text ?? "");
    if (parsed.kind === "list") grid[name] = parsed.values.length === 1 ? parsed.values[0] : parsed.values;
    else if (parsed.kind === "range") grid[name] = { start: parsed.start, stop: parsed.stop, step: parsed.step };
  }
  return grid;
}

export interface SweepValues {
  strategy_id: string;
  symbol: string;
  start: string;
  end: string;
  cash: number;
  grid: Record<string, string>;
  constraint: string;
  objective: string;
  direction: "max" | "min";
  sample: boolean;
  /** The sample's size and seed as typed ("" for the seed: the API picks one and records it). */
  n: string;
  seed: string;
}

export interface SweepRequest {
  strategy_id: string;
  symbol: string;
  start?: number;
  end?: number;
  cash: number;
  grid: Record<string, GridValue>;
  constraint?: string;
  objective: string;
  maximize: boolean;
  random?: { n: number; seed?: number };
}

/** The body of ``POST /sweeps`` (dates as epoch ms, the end day included: the range ends the day after). */
export function sweepRequest(values: SweepValues, paramNames: string[], zone: TimeZoneChoice): SweepRequest {
  const texts = Object.fromEntries(paramNames.map((name) => [name, values.grid?.[name] ?? ""]));
  const request: SweepRequest = {
    strategy_id: values.strategy_id,
    symbol: values.symbol,
    cash: values.cash,
    grid: gridRequest(texts),
    objective: values.objective,
    maximize: values.direction !== "min",
  };
  const start = dayStartMs(values.start, zone);
  const end = nextDayStartMs(values.end, zone);
  if (start !== null) request.start = start;
  if (end !== null) request.end = end;
  if (values.constraint.trim()) request.constraint = values.constraint.trim();
  const n = Number(values.n);
  if (values.sample && values.n.trim() !== "" && Number.isFinite(n)) {
    request.random = { n };
    const seed = Number(values.seed);
    if (values.seed.trim() !== "" && Number.isFinite(seed)) request.random.seed = seed;
  }
  return request;
}

export interface PlacedSweepErrors {
  /** Form field ("grid.fast", "constraint", "n") -> the message under it. */
  fields: Record<string, string>;
  /** About the grid as a whole (too many points, no param): above the rows. */
  grid: string[];
  /** For no field of the form: at the top. */
  other: string[];
}

const FIELDS: Record<string, string> = {
  strategy_id: "strategy_id",
  symbol: "symbol",
  start: "start",
  end: "end",
  cash: "cash",
  constraint: "constraint",
  objective: "objective",
  maximize: "direction",
  "random.n": "n",
  "random.seed": "seed",
  random: "n",
};

/** Where each of the API's 422 messages (``errors.json``) goes: a param's row, a field, the grid, or the top. */
export function placeSweepErrors(errors: Record<string, string[]>, paramNames: string[]): PlacedSweepErrors {
  const placed: PlacedSweepErrors = { fields: {}, grid: [], other: [] };
  const add = (field: string, message: string) => {
    placed.fields[field] = placed.fields[field] ? `${placed.fields[field]}; ${message}` : message;
  };
  for (const [path, messages] of Object.entries(errors)) {
    for (const message of messages) {
      if (path in FIELDS) add(FIELDS[path], message);
      else if (path.startsWith("grid.") && paramNames.includes(path.slice(5))) add(path, message);
      else if (path === "grid" || path.startsWith("grid.")) placed.grid.push(path === "grid" ? message : `${path.slice(5)}: ${message}`);
      else placed.other.push(path ? `${path}: ${message}` : message);
    }
  }
  return placed;
}
