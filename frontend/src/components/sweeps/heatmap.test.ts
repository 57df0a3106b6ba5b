import { describe, expect, it } from "vitest";

import { axisLabel, bestCell, cellParams, cellValue, type Heatmap, heatmapCells, heatmapOption, labelColor } from "./heatmap";

const MAP: Heatmap = {
  x: { param: "fast", values: [5, 10, 15] },
  y: { param: "slow", values: [20, 40] },
  objective: "sharpe",
  maximize: true,
  z: [
    [1.65, 0.86, -0.16],
    [1.14, 0.75, null],
  ],
  best: { x: 5, y: 20, value: 1.65 },
  fixed: { stop: 0.02 },
  state: "done",
  complete: true,
};

const format = (value: number) => value.toFixed(2);

type Series = { data: { value: [number, number, number]; itemStyle?: { borderWidth: number }; label?: { formatter?: string; color: string } }[] };

describe("the heatmap", () => {
  it("has a cell per value, a column per x and a row per y, none where there is no value", () => {
    expect(heatmapCells(MAP)).toEqual([
      { x: 0, y: 0, value: 1.65 },
      { x: 1, y: 0, value: 0.86 },
      { x: 2, y: 0, value: -0.16 },
      { x: 0, y: 1, value: 1.14 },
      { x: 1, y: 1, value: 0.75 },
    ]);
    expect(cellValue(MAP, 2, 1)).toBeNull();
    expect(cellValue(MAP, 1, 1)).toBe(0.75);
  });

  it("finds the best cell on its axes", () => {
    expect(bestCell(MAP)).toEqual({ x: 0, y: 0 });
    expect(bestCell({ ...MAP, best: null })).toBeNull();
    expect(bestCell({ ...MAP, best: { x: 7, y: 20, value: 1 } })).toBeNull();
  });

  it("gives a cell's params: its x and y values and the other params as held", () => {
    expect(cellParams(MAP, 2, 1)).toEqual({ stop: 0.02, fast: 15, slow: 40 });
  });

  it("becomes ECharts data with the best cell outlined and starred, and the selected one outlined", () => {
    const option = heatmapOption(MAP, { format, objectiveLabel: "Sharpe ratio", selected: { x: 1, y: 1 } }) as {
      series: Series[];
      xAxis: { data: string[]; name: string };
      yAxis: { data: string[] };
      visualMap: { min: number; max: number; inRange: { color: string[] }; text: string[] };
    };
    const data = option.series[0].data;
    expect(data.map((item) => item.value)).toEqual(heatmapCells(MAP).map((cell) => [cell.x, cell.y, cell.value]));
    expect(data[0].label?.formatter).toBe("★ 1.65");
    expect(data[0].itemStyle?.borderWidth).toBe(3);
    expect(data[4].itemStyle?.borderWidth).toBe(2);
    expect(data[1].itemStyle).toBeUndefined();
    expect(data[1].label?.formatter).toBeUndefined();
    expect(option.xAxis).toMatchObject({ name: "fast", data: ["5", "10", "15"] });
    expect(option.yAxis.data).toEqual(["20", "40"]);
    expect(option.visualMap).toMatchObject({ min: -0.16, max: 1.65, text: ["best", "worst"] });
  });

  it("runs its colours from worst to best either way the objective ranks", () => {
    const up = heatmapOption(MAP, { format, objectiveLabel: "Sharpe" }) as { visualMap: { inRange: { color: string[] }; text: string[] } };
    const down = heatmapOption({ ...MAP, maximize: false }, { format, objectiveLabel: "Sharpe" }) as typeof up;
    expect(down.visualMap.inRange.color).toEqual([...up.visualMap.inRange.color].reverse());
    expect(down.visualMap.text).toEqual(["worst", "best"]);
  });

  it("has a scale even when every value is the same, or none", () => {
    const flat = heatmapOption({ ...MAP, z: [[1, null, null], [null, null, null]] }, { format, objectiveLabel: "Sharpe" }) as { visualMap: { min: number; max: number } };
    expect(flat.visualMap).toMatchObject({ min: 1, max: 2 });
    const empty = heatmapOption({ ...MAP, z: [[null, null, null], [null, null, null]], best: null }, { format, objectiveLabel: "Sharpe" }) as { series: Series[] };
    expect(empty.series[0].data).toEqual([]);
  });

  it("writes white on the dark ends of the scale and dark in between", () => {
    expect([-1, 0.1, 0.5, 0.9, 1].map((value) => labelColor(value, -1, 1))).toEqual(["#ffffff", "#0f172a", "#0f172a", "#ffffff", "#ffffff"]);
    expect(labelColor(3, 3, 3)).toBe("#0f172a");
    const option = heatmapOption(MAP, { format, objectiveLabel: "Sharpe" }) as { series: Series[] };
    expect(option.series[0].data.map((item) => item.label?.color)).toEqual(["#ffffff", "#0f172a", "#ffffff", "#0f172a", "#0f172a"]);
  });

  it("labels axis values without float noise", () => {
    expect(axisLabel(0.1 + 0.2)).toBe("0.3");
    expect(axisLabel(20)).toBe("20");
  });
});
