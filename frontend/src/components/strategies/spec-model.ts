// What the strategy editor knows about specs besides their JSON: the template a new strategy starts
// from, indicator names, the catalogue's search, and what a params form edits.

import type { IndicatorFunction } from "@/lib/types";

import { formatJson } from "./spec-json";

/** A new strategy: valid as it stands (an SMA cross trading BTC in steps of 0.00001), for the user to edit. */
export const TEMPLATE_TEXT = `{
  "name": "My strategy",
  "description": "Long when the fast SMA crosses above the slow one; out when it crosses back below.",
  "symbols": ["BTCUSDT"],
  "timeframe": "1h",
  "params": {"fast": 10, "slow": 20},
  "indicators": {
    "fast": {"function": "SMA", "params": {"timeperiod": "$fast"}},
    "slow": {"function": "SMA", "params": {"timeperiod": "$slow"}}
  },
  "rules": {
    "enter_long": "crosses_above(fast, slow)",
    "exit_long": "crosses_below(fast, slow)"
  },
  "sizing": {"mode": "fraction_of_equity", "value": 1, "step": 0.00001}
}
`;

export const PRICE_SERIES = ["open", "high", "low", "close", "volume"];
const RESERVED = new Set([...PRICE_SERIES, "and", "or", "not", "crosses_above", "crosses_below", "abs", "min", "max"]);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Why ``name`` cannot name a new indicator (null when it can). */
export function indicatorNameProblem(name: string, taken: readonly string[]): string | null {
  if (!name) return "Give the indicator a name: rules refer to it by that name.";
  if (!IDENTIFIER.test(name)) return "Use letters, digits and _ (not first), at most 64 characters.";
  if (RESERVED.has(name.toLowerCase())) return `'${name}' is reserved (a price series or a rule word).`;
  if (taken.some((other) => other.toLowerCase() === name.toLowerCase())) return `An indicator is already named '${name}'.`;
  return null;
}

/** A free name for a new indicator of ``fn``: "rsi", then "rsi_2", "rsi_3" ... */
export function suggestName(fn: string, taken: readonly string[]): string {
  const base = fn.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  const start = /^[a-z_]/.test(base) ? base : `i_${base}`;
  if (!indicatorNameProblem(start, taken)) return start;
  for (let n = 2; ; n += 1) {
    const candidate = `${start}_${n}`;
    if (!indicatorNameProblem(candidate, taken)) return candidate;
  }
}

/** Catalogue entries matching every word of ``query`` (in function, display name or group), and ``group`` if given. */
export function searchCatalogue(catalogue: readonly IndicatorFunction[], query: string, group = ""): IndicatorFunction[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const matches = catalogue.filter((fn) => {
    if (group && fn.group !== group) return false;
    const haystack = `${fn.function} ${fn.display_name} ${fn.group}`.toLowerCase();
    return words.every((word) => haystack.includes(word));
  });
  if (!words.length) return matches;
  // An exact function name first ("rsi" finds RSI before CDLRICKSHAWMAN's display name), then prefixes.
  const rank = (fn: IndicatorFunction) => {
    const name = fn.function.toLowerCase();
    return name === words[0] ? 0 : name.startsWith(words[0]) ? 1 : 2;
  };
  return [...matches].sort((a, b) => rank(a) - rank(b));
}

/** The entry the picker inserts: the function with each of its params at TA-Lib's default. */
export function indicatorEntry(fn: IndicatorFunction): { function: string; params?: Record<string, number> } {
  if (!fn.params.length) return { function: fn.function };
  const params = Object.fromEntries(fn.params.map((param) => [param.name, param.type === "integer" ? Math.round(param.default) : param.default]));
  return { function: fn.function, params };
}

/** How rules read a new indicator's outputs: "rsi", or "macd.macd", "macd.macdsignal" ... */
export function seriesNames(name: string, fn: IndicatorFunction): string[] {
  return fn.outputs.length === 1 ? [name] : fn.outputs.map((output) => `${name}.${output}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The spec's params as the form edits them: null when the document has no params object of numbers to show. */
export function specParams(spec: unknown): Record<string, number> | null {
  if (!isObject(spec)) return null;
  const params = spec.params;
  if (params === undefined) return {};
  if (!isObject(params)) return null;
  const numbers: Record<string, number> = {};
  for (const [name, value] of Object.entries(params)) {
    if (typeof value === "number") numbers[name] = value;
  }
  return numbers;
}

/** The indicator names of a spec (for the picker to avoid). */
export function indicatorNames(spec: unknown): string[] {
  return isObject(spec) && isObject(spec.indicators) ? Object.keys(spec.indicators) : [];
}

/** Where a param is used: "fast.timeperiod" for an indicator, "enter_long" for a rule, "risk.stop_loss.fraction" ... */
export function paramUses(spec: unknown, name: string): string[] {
  if (!isObject(spec)) return [];
  const uses: string[] = [];
  const reference = `$${name}`;
  const walk = (value: unknown, path: string) => {
    if (value === reference) uses.push(path);
    else if (isObject(value)) for (const [key, item] of Object.entries(value)) walk(item, path ? `${path}.${key}` : key);
  };
  if (isObject(spec.indicators)) {
    for (const [indicator, entry] of Object.entries(spec.indicators)) {
      if (isObject(entry) && isObject(entry.params)) walk(entry.params, indicator);
    }
  }
  if (isObject(spec.risk)) walk(spec.risk, "risk");
  if (isObject(spec.sizing) && spec.sizing.value === reference) uses.push("sizing.value");
  if (isObject(spec.rules)) {
    const pattern = new RegExp(`\\$${name}(?![A-Za-z0-9_])`);
    for (const [rule, text] of Object.entries(spec.rules)) {
      if (typeof text === "string" && pattern.test(text)) uses.push(rule);
    }
  }
  return uses;
}

// The order docs/strategy-spec.md writes a spec's fields in (the API sends keys sorted by name).
const ORDER: Record<string, string[]> = {
  "": ["name", "description", "symbols", "timeframe", "params", "indicators", "rules", "risk", "sizing", "costs", "allow_reversal"],
  indicator: ["function", "params", "inputs"],
  rules: ["enter_long", "exit_long", "enter_short", "exit_short"],
  risk: ["stop_loss", "take_profit", "trailing_stop"],
  distance: ["fraction", "atr", "multiple"],
  sizing: ["mode", "value", "step", "min_qty", "min_notional"],
  costs: ["commission", "slippage"],
};

function ordered(value: unknown, order: string[] | undefined): unknown {
  if (!isObject(value) || !order) return value;
  const rank = (key: string) => (order.includes(key) ? order.indexOf(key) : order.length);
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => rank(a) - rank(b)));
}

/** A spec with its fields in the documented order, at every level that has one; other keys keep theirs. */
export function orderSpec(spec: unknown): unknown {
  if (!isObject(spec)) return spec;
  const top = ordered(spec, ORDER[""]) as Record<string, unknown>;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(top)) {
    if (key === "indicators" && isObject(value)) {
      result[key] = Object.fromEntries(Object.entries(value).map(([name, entry]) => [name, ordered(entry, ORDER.indicator)]));
    } else if (key === "risk" && isObject(value)) {
      result[key] = Object.fromEntries(Object.entries(ordered(value, ORDER.risk) as object).map(([name, entry]) => [name, ordered(entry, ORDER.distance)]));
    } else {
      result[key] = ordered(value, ORDER[key]);
    }
  }
  return result;
}

/** Columns the editor shows without wrapping, at a 1280-px screen. */
const EDITOR_COLUMNS = 72;

/** The text a stored spec shows in the editor: in the documented order, short parts on one line. */
export function specText(spec: unknown): string {
  return `${formatJson(orderSpec(spec), EDITOR_COLUMNS)}\n`;
}
