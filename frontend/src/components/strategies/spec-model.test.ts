import { describe, expect, it } from "vitest";

import type { IndicatorFunction } from "@/lib/types";

import { formatJson, minimalChange, parseJson } from "./spec-json";
import {
  indicatorEntry,
  indicatorNameProblem,
  indicatorNames,
  orderSpec,
  paramUses,
  searchCatalogue,
  seriesNames,
  specParams,
  specText,
  suggestName,
  TEMPLATE_TEXT,
} from "./spec-model";

function fn(name: string, display: string, group: string, extra: Partial<IndicatorFunction> = {}): IndicatorFunction {
  return { function: name, display_name: display, group, pane: "separate", inputs: [{ name: "real", default: "close" }], params: [], outputs: ["real"], ...extra };
}

const CATALOGUE = [
  fn("SMA", "Simple Moving Average", "Overlap Studies", { pane: "price", params: [{ name: "timeperiod", default: 30, type: "integer", minimum: 1, maximum: 100000 }] }),
  fn("RSI", "Relative Strength Index", "Momentum Indicators"),
  fn("CDLRICKSHAWMAN", "Rickshaw Man", "Pattern Recognition"),
  fn("ATR", "Average True Range", "Volatility Indicators"),
  fn("BBANDS", "Bollinger Bands", "Overlap Studies", {
    params: [
      { name: "timeperiod", default: 20, type: "integer", minimum: 2, maximum: 100000 },
      { name: "nbdevup", default: 2, type: "number", minimum: null, maximum: null },
    ],
    outputs: ["upperband", "middleband", "lowerband"],
  }),
];

describe("the template", () => {
  it("is a JSON object with the fields a spec needs", () => {
    const parsed = parseJson(TEMPLATE_TEXT);
    expect(parsed.ok).toBe(true);
    const spec = parsed.ok ? (parsed.value as Record<string, unknown>) : {};
    expect(Object.keys(spec)).toEqual(expect.arrayContaining(["name", "symbols", "timeframe", "rules"]));
    expect(specParams(spec)).toEqual({ fast: 10, slow: 20 });
  });
});

describe("searchCatalogue", () => {
  it("matches every word in the function, its display name or its group", () => {
    expect(searchCatalogue(CATALOGUE, "moving average").map((f) => f.function)).toEqual(["SMA"]);
    expect(searchCatalogue(CATALOGUE, "volatility").map((f) => f.function)).toEqual(["ATR"]);
    expect(searchCatalogue(CATALOGUE, "overlap band").map((f) => f.function)).toEqual(["BBANDS"]);
    expect(searchCatalogue(CATALOGUE, "").length).toBe(CATALOGUE.length);
  });

  it("puts the function named first", () => {
    expect(searchCatalogue(CATALOGUE, "r")[0].function).toBe("RSI");
    expect(searchCatalogue(CATALOGUE, "rsi")[0].function).toBe("RSI");
  });

  it("filters by group", () => {
    expect(searchCatalogue(CATALOGUE, "", "Overlap Studies").map((f) => f.function)).toEqual(["SMA", "BBANDS"]);
    expect(searchCatalogue(CATALOGUE, "rsi", "Overlap Studies")).toEqual([]);
  });
});

describe("indicator names", () => {
  it("refuses empty, malformed, reserved and taken names", () => {
    expect(indicatorNameProblem("", [])).toMatch(/Give the indicator a name/);
    expect(indicatorNameProblem("2fast", [])).toMatch(/letters, digits/);
    expect(indicatorNameProblem("fast-1", [])).toMatch(/letters, digits/);
    expect(indicatorNameProblem("Close", [])).toMatch(/reserved/);
    expect(indicatorNameProblem("crosses_above", [])).toMatch(/reserved/);
    expect(indicatorNameProblem("Fast", ["fast"])).toMatch(/already named/);
    expect(indicatorNameProblem("rsi_14", ["fast"])).toBeNull();
  });

  it("suggests a free one", () => {
    expect(suggestName("RSI", [])).toBe("rsi");
    expect(suggestName("RSI", ["rsi", "rsi_2"])).toBe("rsi_3");
    expect(suggestName("MIN", [])).toBe("min_2");
  });

  it("lists a spec's indicators", () => {
    expect(indicatorNames({ indicators: { a: {}, b: {} } })).toEqual(["a", "b"]);
    expect(indicatorNames({ indicators: [] })).toEqual([]);
  });
});

describe("indicatorEntry and seriesNames", () => {
  it("writes every param at its default, whole numbers for integers", () => {
    expect(indicatorEntry(CATALOGUE[0])).toEqual({ function: "SMA", params: { timeperiod: 30 } });
    expect(indicatorEntry(CATALOGUE[1])).toEqual({ function: "RSI" });
    expect(indicatorEntry(CATALOGUE[4])).toEqual({ function: "BBANDS", params: { timeperiod: 20, nbdevup: 2 } });
  });

  it("names outputs the way rules read them", () => {
    expect(seriesNames("rsi", CATALOGUE[1])).toEqual(["rsi"]);
    expect(seriesNames("bb", CATALOGUE[4])).toEqual(["bb.upperband", "bb.middleband", "bb.lowerband"]);
  });
});

describe("specParams and paramUses", () => {
  const spec = {
    params: { fast: 10, slow: 20, stop: 0.05, cap: 70, unused: 1 },
    indicators: { fast: { function: "SMA", params: { timeperiod: "$fast" } }, slow: { function: "SMA", params: { timeperiod: "$slow" } } },
    rules: { enter_long: "crosses_above(fast, slow) and rsi < $cap", exit_long: "rsi > $capped" },
    risk: { stop_loss: { fraction: "$stop" } },
    sizing: { value: "$stop" },
  };

  it("reads the params the form edits", () => {
    expect(specParams(spec)).toEqual(spec.params);
    expect(specParams({})).toEqual({});
    expect(specParams({ params: [1] })).toBeNull();
    expect(specParams([1])).toBeNull();
    expect(specParams({ params: { a: 1, b: "x" } })).toEqual({ a: 1 });
  });

  it("finds where each is used", () => {
    expect(paramUses(spec, "fast")).toEqual(["fast.timeperiod"]);
    expect(paramUses(spec, "cap")).toEqual(["enter_long"]);
    expect(paramUses(spec, "stop")).toEqual(["risk.stop_loss.fraction", "sizing.value"]);
    expect(paramUses(spec, "unused")).toEqual([]);
  });
});

describe("specText", () => {
  const stored = {
    allow_reversal: false,
    costs: { slippage: 0, commission: 0.001 },
    indicators: { slow: { inputs: { real: "close" }, params: { timeperiod: "$slow" }, function: "SMA" } },
    name: "SMA",
    params: { fast: 10, slow: 20 },
    risk: {},
    rules: { exit_long: "crosses_below(fast, slow)", enter_long: "crosses_above(fast, slow)" },
    symbols: ["BTCUSDT"],
    timeframe: "1h",
  };

  it("puts fields in the documented order", () => {
    const spec = orderSpec(stored) as Record<string, Record<string, unknown>>;
    expect(Object.keys(spec)).toEqual(["name", "symbols", "timeframe", "params", "indicators", "rules", "risk", "costs", "allow_reversal"]);
    expect(Object.keys(spec.indicators.slow as object)).toEqual(["function", "params", "inputs"]);
    expect(Object.keys(spec.rules)).toEqual(["enter_long", "exit_long"]);
    expect(Object.keys(spec.costs)).toEqual(["commission", "slippage"]);
  });

  it("is the same spec, short parts on one line", () => {
    const text = specText(stored);
    expect(JSON.parse(text)).toEqual(stored);
    expect(text).toContain('\n  "params": {"fast": 10, "slow": 20},\n');
    expect(text).toContain('\n    "slow": {\n      "function": "SMA",\n      "params": {"timeperiod": "$slow"},\n      "inputs": {"real": "close"}\n    }\n');
    expect(Math.max(...text.split("\n").map((line) => line.length))).toBeLessThanOrEqual(72);
    expect(text.startsWith('{\n  "name": "SMA",\n')).toBe(true);
  });
});

describe("formatJson", () => {
  it("breaks what does not fit", () => {
    expect(formatJson({ a: [1, 2] })).toBe('{\n  "a": [1, 2]\n}');
    expect(formatJson({ a: { b: "x".repeat(20) } }, 20)).toBe(`{\n  "a": {\n    "b": "${"x".repeat(20)}"\n  }\n}`);
    expect(formatJson({ list: ["a".repeat(10), "b".repeat(10)] }, 20)).toBe(`{\n  "list": [\n    "${"a".repeat(10)}",\n    "${"b".repeat(10)}"\n  ]\n}`);
    expect(formatJson({})).toBe("{}");
  });
});

describe("minimalChange", () => {
  it("replaces only what differs", () => {
    expect(minimalChange('{"fast": 10}', '{"fast": 12}')).toEqual({ from: 10, to: 11, insert: "2" });
    expect(minimalChange("abc", "abc")).toBeNull();
    expect(minimalChange("aaa", "aaaa")).toEqual({ from: 3, to: 3, insert: "a" });
    expect(minimalChange("abc", "")).toEqual({ from: 0, to: 3, insert: "" });
  });
});
