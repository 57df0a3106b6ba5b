import { PALETTE } from "@/components/charts/candle-chart";

import { chartHeight, chartMarkers, countBetween, covers, indicatorLegend, indicatorSeries, maxBarsFromSearch, tradeCentre } from "./chart-data";

const indicators = {
  fast: { function: "SMA", params: { timeperiod: 10 }, pane: "price" as const, outputs: { real: [null, 1, 2] } },
  macd: { function: "MACD", params: { fastperiod: 12, slowperiod: 26 }, pane: "separate" as const, outputs: { macd: [1, 2, 3], macdsignal: [1, 1, 1] } },
};

describe("what the candle chart draws", () => {
  it("turns trades into markers: entries and exits, buys below and sells above, named by reason", () => {
    const markers = chartMarkers({ time: [1000, 5000, 9000], price: [1, 2, 3], side: ["buy", "sell", "sell"], reason: ["enter_long", "stop_loss", "enter_short"] });
    expect(markers).toEqual([
      { time: 1000, side: "buy", text: "Long" },
      { time: 5000, side: "sell", text: "Stop" },
      { time: 9000, side: "sell", text: "Short" },
    ]);
  });

  it("leaves the text out when asked (too many markers in view to read)", () => {
    const markers = chartMarkers({ time: [1, 2, 3], side: ["buy", "sell", "buy"], reason: ["enter_long", "signal", "enter_long"] }, false);
    expect(markers.every((marker) => marker.text === undefined)).toBe(true);
    expect(chartMarkers(undefined)).toEqual([]);
  });

  it("counts the markers in a view", () => {
    const times = [10, 20, 20, 30, 40];
    expect(countBetween(times, 20, 30)).toBe(3);
    expect(countBetween(times, 0, 100)).toBe(5);
    expect(countBetween(times, 41, 100)).toBe(0);
    expect(countBetween(times, 30, 20)).toBe(0);
    expect(countBetween(undefined, 0, 1)).toBe(0);
  });

  it("passes indicators with their panes, and a legend in the chart's colours", () => {
    expect(indicatorSeries(indicators).map((series) => [series.name, series.pane])).toEqual([
      ["fast", "price"],
      ["macd", "separate"],
    ]);
    expect(indicatorLegend(indicators)).toEqual([
      { label: "fast · SMA(timeperiod=10)", color: PALETTE[0], pane: "price" },
      { label: "macd.macd · MACD(fastperiod=12, slowperiod=26)", color: PALETTE[1], pane: "separate" },
      { label: "macd.macdsignal · MACD(fastperiod=12, slowperiod=26)", color: PALETTE[2], pane: "separate" },
    ]);
  });

  it("grows for each pane below the candles", () => {
    expect(chartHeight({ fast: indicators.fast })).toBe(440);
    expect(chartHeight(indicators)).toBe(590);
  });

  it("centres a trade halfway through it", () => {
    expect(tradeCentre({ entry_time: 1000, exit_time: 3000 })).toBe(2000);
    expect(tradeCentre({ entry_time: 1000 })).toBe(1000);
    expect(tradeCentre({})).toBeNull();
  });

  it("knows whether the loaded candles cover a time", () => {
    const chart = { candles: { t: [1000, 2000, 3000] }, period_ms: 1000 };
    expect(covers(chart, 1000)).toBe(true);
    expect(covers(chart, 3999)).toBe(true);
    expect(covers(chart, 4000)).toBe(false);
    expect(covers(chart, 999)).toBe(false);
    expect(covers(undefined, 1)).toBe(false);
  });

  it("reads the detail from ?bars=, one of the choices only", () => {
    expect(maxBarsFromSearch("20000")).toBe(20000);
    expect(maxBarsFromSearch("123")).toBe(2000);
    expect(maxBarsFromSearch(null)).toBe(2000);
  });
});
