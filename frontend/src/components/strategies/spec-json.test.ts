import { describe, expect, it } from "vitest";

import { diagnosticsFor, inlineJson, insertProperty, lineColumn, locate, parseJson, rangeForPath, replaceValue, type JsonNode } from "./spec-json";

const SPEC = `{
  "name": "SMA cross",
  "symbols": ["BTCUSDT", "ETH/USDT"],
  "timeframe": "7m",
  "params": {"fast": 10, "slow": 20},
  "indicators": {
    "fast": {"function": "SMA", "params": {"timeperiod": "$fast"}},
    "slow": {"function": "SMA", "params": {}}
  },
  "rules": {"enter_long": "crosses_above(fast, macd)"},
  "sizing": {"step": {"BRK.B": 0.5, "*": 1}}
}
`;

function root(text: string): JsonNode {
  const parsed = parseJson(text);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.root;
}

function marked(text: string, path: string, message = ""): string {
  const range = rangeForPath(text, root(text), path, message);
  return text.slice(range.from, range.to);
}

describe("parseJson", () => {
  it("gives the same value as JSON.parse", () => {
    const parsed = parseJson(SPEC);
    expect(parsed.ok && parsed.value).toEqual(JSON.parse(SPEC));
    const tricky = '{"a": "q\\"uo\\u00e9\\n", "b": [-1.5e3, true, null, {}], "c": []}';
    const again = parseJson(tricky);
    expect(again.ok && again.value).toEqual(JSON.parse(tricky));
  });

  it("puts a syntax error where it is, with its line and column", () => {
    const text = '{\n  "a": 1,\n  "b": 2,\n}';
    const parsed = parseJson(text);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error.from).toBe(text.lastIndexOf("}"));
    expect(parsed.error.message).toContain("line 4, column 1");
    expect(parsed.error.message).toContain("comma before '}'");
  });

  it("names unquoted words, unterminated strings and trailing text", () => {
    const bare = parseJson('{"timeframe": 1h}');
    expect(!bare.ok && bare.error.message).toContain("expected ',' or '}'");
    const word = parseJson('{"timeframe": oneh}');
    expect(!word.ok && word.error).toMatchObject({ from: 14, to: 18 });
    expect(!word.ok && word.error.message).toContain("'oneh' is not a JSON value");
    const open = parseJson('{"name": "abc');
    expect(!open.ok && open.error.message).toContain("unterminated string");
    const extra = parseJson("{} x");
    expect(!extra.ok && extra.error.message).toContain("after the end of the document");
    const empty = parseJson("");
    expect(!empty.ok && empty.error).toMatchObject({ from: 0, to: 0 });
  });

  it("counts lines and columns from 1", () => {
    expect(lineColumn("ab\ncd", 4)).toEqual({ line: 2, column: 2 });
  });
});

describe("rangeForPath", () => {
  it("marks a scalar with its key", () => {
    expect(marked(SPEC, "timeframe")).toBe('"timeframe": "7m"');
    expect(marked(SPEC, "indicators.fast.params.timeperiod")).toBe('"timeperiod": "$fast"');
  });

  it("marks the key of an object or array", () => {
    expect(marked(SPEC, "indicators.fast.params")).toBe('"params"');
    expect(marked(SPEC, "symbols")).toBe('"symbols"');
  });

  it("follows array items", () => {
    expect(marked(SPEC, "symbols[1]")).toBe('"ETH/USDT"');
  });

  it("falls back to the nearest parent that exists", () => {
    const range = rangeForPath(SPEC, root(SPEC), "indicators.slow.params.timeperoid");
    expect(range.exact).toBe(false);
    expect(SPEC.slice(range.from, range.to)).toBe('"params"');
    expect(marked(SPEC, "symbols[7]")).toBe('"symbols"');
    expect(marked(SPEC, "risk.stop_loss.fraction")).toBe("{");
  });

  it("marks the document for the empty path", () => {
    expect(marked(SPEC, "")).toBe("{");
  });

  it("finds keys that hold dots", () => {
    expect(marked(SPEC, "sizing.step.BRK.B")).toBe('"BRK.B": 0.5');
    expect(marked(SPEC, "sizing.step.*")).toBe('"*": 1');
    expect(locate(root(SPEC), "sizing.step.BRK.C").path).toBe("sizing.step");
  });

  it("marks the name a rule's message points at", () => {
    const message = "'macd' has several outputs at column 21; use one of macd.macd";
    expect(marked(SPEC, "rules.enter_long", message)).toBe("macd");
    const range = rangeForPath(SPEC, root(SPEC), "rules.enter_long", message);
    expect(range.from).toBe(SPEC.indexOf("macd)"));
  });

  it("counts an escape as one character of a rule", () => {
    const text = '{"rules": {"enter_long": "a\\tb > c"}}';
    expect(marked(text, "rules.enter_long", "unknown series 'b' at column 3")).toBe("b");
    expect(marked(text, "rules.enter_long", "unknown series at column 2")).toBe("\\t");
    expect(marked(text, "rules.enter_long", "unexpected '>' at column 5")).toBe(">");
  });

  it("uses the last of duplicate keys, as JSON.parse does", () => {
    const text = '{"a": 1, "a": 2}';
    expect(rangeForPath(text, root(text), "a").from).toBe(9);
  });
});

describe("diagnosticsFor", () => {
  it("gives one diagnostic per message, in document order, prefixed with the path", () => {
    const diagnostics = diagnosticsFor(SPEC, root(SPEC), {
      timeframe: ["unknown timeframe '7m'"],
      "symbols[1]": ["bad symbol", "second message"],
      "": ["whole document"],
    });
    expect(diagnostics.map((d) => d.message)).toEqual([
      "whole document",
      "symbols[1]: bad symbol",
      "symbols[1]: second message",
      "timeframe: unknown timeframe '7m'",
    ]);
    expect(diagnostics[0]).toMatchObject({ from: 0, to: 1, severity: "error", path: "" });
  });
});

describe("edits", () => {
  it("replaces a value and keeps the rest of the text", () => {
    const changed = replaceValue(SPEC, root(SPEC), "params.fast", "12");
    expect(changed).toBe(SPEC.replace('"fast": 10', '"fast": 12'));
    expect(replaceValue(SPEC, root(SPEC), "params.medium", "12")).toBeNull();
  });

  it("adds a property indented like its siblings", () => {
    const text = '{\n  "indicators": {\n    "fast": {"function": "SMA"}\n  }\n}';
    const changed = insertProperty(text, root(text), "indicators", "rsi", { function: "RSI", params: { timeperiod: 14 } });
    expect(changed).toBe('{\n  "indicators": {\n    "fast": {"function": "SMA"},\n    "rsi": {"function": "RSI", "params": {"timeperiod": 14}}\n  }\n}');
    expect(JSON.parse(changed as string).indicators.rsi.params.timeperiod).toBe(14);
  });

  it("adds to a one-line object on its line", () => {
    const text = '{"params": {"fast": 10}}';
    expect(insertProperty(text, root(text), "params", "slow", 20)).toBe('{"params": {"fast": 10, "slow": 20}}');
  });

  it("adds to an empty object on a new line", () => {
    const text = '{\n  "indicators": {}\n}';
    expect(insertProperty(text, root(text), "indicators", "rsi", { function: "RSI" })).toBe('{\n  "indicators": {\n    "rsi": {"function": "RSI"}\n  }\n}');
  });

  it("refuses a key that is taken, or a parent that is not an object", () => {
    expect(insertProperty(SPEC, root(SPEC), "indicators", "fast", {})).toBeNull();
    expect(insertProperty(SPEC, root(SPEC), "symbols", "x", {})).toBeNull();
    expect(insertProperty(SPEC, root(SPEC), "risk", "x", {})).toBeNull();
  });

  it("writes values on one line", () => {
    expect(inlineJson({ a: [1, "b"], c: { d: null } })).toBe('{"a": [1, "b"], "c": {"d": null}}');
  });
});
