import { dateRange, dayStartMs, launchRequest, launchSchema, nextDayStartMs, placeApiErrors, toDateInput } from "./launch";

describe("the launch form's dates", () => {
  it("are days of the user's calendar, the end day included", () => {
    expect(dayStartMs("2024-03-05", "utc")).toBe(Date.UTC(2024, 2, 5));
    expect(nextDayStartMs("2024-03-31", "utc")).toBe(Date.UTC(2024, 3, 1));
    expect(dayStartMs("2024-03-05", "local")).toBe(new Date(2024, 2, 5).getTime());
    expect(dayStartMs("", "utc")).toBeNull();
  });

  it("are bounded by the stored candles", () => {
    expect(dateRange(Date.UTC(2024, 0, 1), Date.UTC(2024, 1, 10, 23), "utc")).toEqual({ min: "2024-01-01", max: "2024-02-10" });
    expect(toDateInput(Date.UTC(2024, 0, 1, 23, 30), "utc")).toBe("2024-01-01");
    expect(dateRange(undefined, 5, "utc")).toBeNull();
  });

  it("go to the API as epoch ms, left out when empty", () => {
    const values = { strategy_id: "s", symbol: "BTCUSDT", start: "2024-01-02", end: "2024-01-03", cash: 5000, params: { fast: 5 } };
    expect(launchRequest(values, "utc")).toEqual({
      strategy_id: "s",
      symbol: "BTCUSDT",
      start: Date.UTC(2024, 0, 2),
      end: Date.UTC(2024, 0, 4),
      cash: 5000,
      params: { fast: 5 },
    });
    expect(launchRequest({ ...values, start: "", end: "" }, "utc")).not.toHaveProperty("start");
  });
});

describe("the launch form's schema", () => {
  const schema = launchSchema(() => ({ min: "2024-01-01", max: "2024-02-10" }));
  const valid = { strategy_id: "s", symbol: "BTCUSDT", start: "2024-01-05", end: "2024-02-01", cash: 10_000, params: { fast: 10 } };
  const issues = (values: object) => {
    const result = schema.safeParse(values);
    return result.success ? {} : Object.fromEntries(result.error.issues.map((issue) => [issue.path.join("."), issue.message]));
  };

  it("accepts dates within the stored range", () => {
    expect(issues(valid)).toEqual({});
  });

  it("refuses dates outside it, an end before the start, no cash and a param that is no number", () => {
    expect(issues({ ...valid, start: "2023-12-31" })).toEqual({ start: "The stored candles start on 2024-01-01" });
    expect(issues({ ...valid, end: "2024-02-11" })).toEqual({ end: "The stored candles end on 2024-02-10" });
    expect(issues({ ...valid, start: "2024-01-20", end: "2024-01-10" })).toEqual({ end: "The end must not be before the start" });
    expect(issues({ ...valid, cash: 0 })).toEqual({ cash: "The starting cash must be more than 0" });
    expect(issues({ ...valid, params: { fast: Number.NaN } })).toHaveProperty(["params.fast"]);
  });
});

describe("the API's 422 messages", () => {
  it("go to their fields, a param's spec problem to the param it names", () => {
    const placed = placeApiErrors(
      {
        cash: ["must be a positive number"],
        "params.slow": ["must be a number"],
        params: ["indicators.fast.params.timeperiod: must be a whole number, got $fast = 3.5"],
        "": ["something about the whole request"],
      },
      ["fast", "slow"],
    );
    expect(placed.fields).toEqual({
      cash: "must be a positive number",
      "params.slow": "must be a number",
      "params.fast": "must be a whole number, got $fast = 3.5 (indicators.fast.params.timeperiod)",
    });
    expect(placed.params).toEqual([]);
    expect(placed.other).toEqual(["something about the whole request"]);
  });

  it("about the params but no param shown go above the params, with their path", () => {
    expect(placeApiErrors({ "params.fats": ["unknown parameter"] }, ["fast"]).params).toEqual(["params.fats: unknown parameter"]);
    expect(placeApiErrors({ params: ["indicators.fast.params: TA-Lib rejects SMA with timeperiod=0"] }, ["fast"]).params).toEqual([
      "indicators.fast.params: TA-Lib rejects SMA with timeperiod=0",
    ]);
  });
});
