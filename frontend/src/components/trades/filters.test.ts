import { dayStartMs, filtersToSearch, hasFilters, NO_FILTERS, parseFilters, rangeError, tradeQuery } from "./filters";

describe("the journal's filters in the URL", () => {
  it("reads what the URL holds and ignores what it cannot use", () => {
    const filters = parseFilters(new URLSearchParams("strategy=abc&symbol=btcusdt&status=closed&from=2024-01-01&to=2024-02-30x&page=3"));
    expect(filters).toEqual({ strategy: "abc", symbol: "BTCUSDT", status: "closed", from: "2024-01-01", to: "", page: 3 });
    expect(parseFilters(new URLSearchParams("status=bogus&page=-2"))).toEqual(NO_FILTERS);
    expect(parseFilters(new URLSearchParams("page=1.5")).page).toBe(1);
  });

  it("writes them back in a fixed order, leaving out empty ones and page 1", () => {
    expect(filtersToSearch(NO_FILTERS)).toBe("");
    expect(filtersToSearch({ ...NO_FILTERS, status: "open", symbol: "ethusdt", page: 2 })).toBe("?symbol=ETHUSDT&status=open&page=2");
    const round = { strategy: "s1", symbol: "BTCUSDT", status: "closed" as const, from: "2024-01-01", to: "2024-01-31", page: 4 };
    expect(parseFilters(new URLSearchParams(filtersToSearch(round)))).toEqual(round);
  });

  it("knows when any filter is set", () => {
    expect(hasFilters(NO_FILTERS)).toBe(false);
    expect(hasFilters({ ...NO_FILTERS, page: 3 })).toBe(false);
    expect(hasFilters({ ...NO_FILTERS, to: "2024-01-01" })).toBe(true);
  });
});

describe("the API query", () => {
  it("covers whole days in UTC, the last one included", () => {
    const query = tradeQuery({ ...NO_FILTERS, strategy: "s1", symbol: "BTCUSDT", status: "open", from: "2024-01-01", to: "2024-01-31" }, "utc");
    expect(query).toEqual({ strategy_id: "s1", symbol: "BTCUSDT", status: "open", start: Date.UTC(2024, 0, 1), end: Date.UTC(2024, 1, 1) });
    expect(tradeQuery(NO_FILTERS, "utc")).toEqual({});
  });

  it("uses the browser's midnight in local time", () => {
    expect(dayStartMs("2024-03-10", "local")).toBe(new Date(2024, 2, 10).getTime());
    expect(tradeQuery({ ...NO_FILTERS, to: "2024-03-10" }, "local")).toEqual({ end: new Date(2024, 2, 11).getTime() });
    expect(dayStartMs("March 10", "utc")).toBeNull();
  });

  it("sends no range that ends before it starts, and says so", () => {
    const backwards = { ...NO_FILTERS, from: "2024-02-01", to: "2024-01-01" };
    expect(rangeError(backwards)).toBe("The last day comes before the first.");
    expect(tradeQuery(backwards, "utc")).toEqual({});
    expect(rangeError({ from: "2024-01-01", to: "2024-01-01" })).toBeNull();
  });
});
