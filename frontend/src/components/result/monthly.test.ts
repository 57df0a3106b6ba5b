import { cellLabel, monthlyMatrix, monthlyOption, returnColor, YEAR_COLUMN } from "./monthly";

const rows = [
  { year: 2025, months: [0.01, null, null, null, null, null, null, null, null, null, null, null], total: 0.01 },
  { year: 2024, months: [null, 0.05, -0.1, 0, null, null, null, null, null, null, null, null], total: -0.055 },
];

describe("the monthly returns matrix", () => {
  const matrix = monthlyMatrix(rows);

  it("has the years in order, a cell per month with bars and one per year total", () => {
    expect(matrix.years).toEqual([2024, 2025]);
    expect(matrix.cells).toEqual([
      { column: 1, row: 0, value: 0.05 },
      { column: 2, row: 0, value: -0.1 },
      { column: 3, row: 0, value: 0 },
      { column: YEAR_COLUMN, row: 0, value: -0.055 },
      { column: 0, row: 1, value: 0.01 },
      { column: YEAR_COLUMN, row: 1, value: 0.01 },
    ]);
  });

  it("scales months and year totals apart", () => {
    expect(matrix.monthScale).toBe(0.1);
    expect(matrix.yearScale).toBe(0.055);
  });

  it("colours by sign: green gains, red losses, neutral zero, deeper further from zero", () => {
    const gain = returnColor(0.1, 0.1);
    const loss = returnColor(-0.1, 0.1);
    expect(gain.fill).toBe("#059669");
    expect(loss.fill).toBe("#dc2626");
    expect(gain.text).toBe("#ffffff");
    expect(returnColor(0, 0.1).fill).toBe("#f1f5f9");
    const pale = returnColor(0.01, 0.1);
    expect(pale.fill).not.toBe(gain.fill);
    expect(pale.text).toBe("#0f172a");
    expect(returnColor(0.01, 0.1, true).text).toBe("#ffffff");
    // green dominates a gain, red a loss
    const [r, g] = [parseInt(pale.fill.slice(1, 3), 16), parseInt(pale.fill.slice(3, 5), 16)];
    expect(g).toBeGreaterThan(r);
  });

  it("labels cells as signed percentages", () => {
    expect(cellLabel(0.0213)).toBe("+2.1 %");
    expect(cellLabel(-0.004)).toBe("−0.4 %");
    expect(cellLabel(0)).toBe("0.0 %");
    expect(cellLabel(1.5)).toBe("+150 %");
  });

  it("draws months across and years down, the year's column last", () => {
    const option = monthlyOption(matrix) as { xAxis: { data: string[] }; yAxis: { data: string[] }; series: { data: { value: number[] }[] }[] };
    expect(option.xAxis.data).toHaveLength(13);
    expect(option.xAxis.data[12]).toBe("Year");
    expect(option.yAxis.data).toEqual(["2024", "2025"]);
    expect(option.series[0].data).toHaveLength(6);
    expect(option.series[0].data[0].value).toEqual([1, 0, 0.05]);
  });
});
