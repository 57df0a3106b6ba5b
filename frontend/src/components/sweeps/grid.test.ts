import { describe, expect, it } from "vitest";

import { combinationCount, gridRequest, parseValues, placeSweepErrors, rangeCount, sweepRequest, type SweepValues, valueCount } from "./grid";

describe("a param's values", () => {
  it("are empty (not swept), a list, or a range with the stop included", () => {
    expect(parseValues("  ")).toEqual({ kind: "none" });
    expect(parseValues("5, 10,15")).toEqual({ kind: "list", values: [5, 10, 15], count: 3 });
    expect(parseValues("5 10 10 ; 0.5")).toEqual({ kind: "list", values: [5, 10, 0.5], count: 3 });
    expect(parseValues("5:50:5")).toEqual({ kind: "range", start: 5, stop: 50, step: 5, count: 10 });
    expect(parseValues("1:4")).toEqual({ kind: "range", start: 1, stop: 4, step: 1, count: 4 });
    expect(parseValues("7")).toEqual({ kind: "list", values: [7], count: 1 });
  });

  it("count a range as the API does, float steps included", () => {
    expect(rangeCount(0.1, 0.5, 0.1)).toBe(5);
    expect(rangeCount(5, 52, 5)).toBe(10);
    expect(rangeCount(1, 1, 3)).toBe(1);
    expect(parseValues("0.01:0.05:0.01")).toMatchObject({ count: 5 });
  });

  it("say what is wrong", () => {
    expect(parseValues("5, x")).toEqual({ kind: "error", message: "“x” is not a number" });
    expect(parseValues("5:1")).toEqual({ kind: "error", message: "The stop must not be below the start" });
    expect(parseValues("1:5:0")).toEqual({ kind: "error", message: "The step must be more than 0" });
    expect(parseValues("1:5:1:2")).toMatchObject({ kind: "error" });
    expect(parseValues("a:5")).toMatchObject({ kind: "error" });
    expect(parseValues("1:5000")).toEqual({ kind: "error", message: "5,000 values, at most 1,000" });
  });
});

describe("the combination count", () => {
  it("is the product of the swept rows' counts", () => {
    const rows = ["5:50:5", "20, 50, 100, 200", ""].map(parseValues);
    expect(rows.map(valueCount)).toEqual([10, 4, 0]);
    expect(combinationCount(rows)).toBe(40);
  });

  it("is 0 with nothing swept and unknown while a row is wrong", () => {
    expect(combinationCount([parseValues(""), parseValues("")])).toBe(0);
    expect(combinationCount([parseValues("1,2"), parseValues("1:")])).toBeNull();
    expect(combinationCount([])).toBe(0);
  });
});

describe("the request", () => {
  const values: SweepValues = {
    strategy_id: "s1",
    symbol: "BTCUSDT",
    start: "2024-01-02",
    end: "2024-01-31",
    cash: 5000,
    grid: { fast: "5:20:5", slow: "30, 40", stop: "", extra: "1" },
    constraint: " $fast < $slow ",
    objective: "return_pct",
    direction: "max",
    sample: false,
    n: "100",
    seed: "",
  };

  it("sends lists, ranges and single values, leaving empty rows out", () => {
    expect(gridRequest(values.grid)).toEqual({ fast: { start: 5, stop: 20, step: 5 }, slow: [30, 40], extra: 1 });
  });

  it("has dates as epoch ms (the end day included), the constraint, the objective and its direction", () => {
    expect(sweepRequest(values, ["fast", "slow", "stop"], "utc")).toEqual({
      strategy_id: "s1",
      symbol: "BTCUSDT",
      start: Date.UTC(2024, 0, 2),
      end: Date.UTC(2024, 1, 1),
      cash: 5000,
      grid: { fast: { start: 5, stop: 20, step: 5 }, slow: [30, 40] },
      constraint: "$fast < $slow",
      objective: "return_pct",
      maximize: true,
    });
  });

  it("samples at random when asked, with a seed when given", () => {
    const sampled = sweepRequest({ ...values, constraint: "", start: "", end: "", direction: "min", sample: true, n: "25", seed: "7" }, ["fast"], "utc");
    expect(sampled).toMatchObject({ maximize: false, random: { n: 25, seed: 7 } });
    expect(sampled).not.toHaveProperty("constraint");
    expect(sampled).not.toHaveProperty("start");
    expect(sweepRequest({ ...values, sample: true, n: "25" }, ["fast"], "utc").random).toEqual({ n: 25 });
  });
});

describe("the API's 422 messages", () => {
  it("go to their param's row, their field, the grid, or the top", () => {
    const placed = placeSweepErrors(
      {
        "grid.fast": ["0: must be at least 1"],
        "grid.fst": ["unknown parameter; did you mean fast?"],
        grid: ["2,000,000 grid points, at most 1,000,000"],
        constraint: ["unknown parameter $slw"],
        "random.n": ["must be a whole number from 1 to 100,000"],
        maximize: ["Not a valid boolean."],
        chunk_size: ["must be 1 to 500"],
      },
      ["fast", "slow"],
    );
    expect(placed.fields).toEqual({
      "grid.fast": "0: must be at least 1",
      constraint: "unknown parameter $slw",
      n: "must be a whole number from 1 to 100,000",
      direction: "Not a valid boolean.",
    });
    expect(placed.grid).toEqual(["fst: unknown parameter; did you mean fast?", "2,000,000 grid points, at most 1,000,000"]);
    expect(placed.other).toEqual(["chunk_size: must be 1 to 500"]);
  });
});
