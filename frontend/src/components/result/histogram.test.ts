import { binLabel, binTarget, edgeText, histogramOption, niceStep, pnlBins } from "./histogram";

describe("trade PnL bins", () => {
  it("have round widths", () => {
    expect(niceStep(7)).toBe(10);
    expect(niceStep(1.8)).toBe(2);
    expect(niceStep(0.23)).toBe(0.25);
    expect(niceStep(42)).toBe(50);
    expect(niceStep(100)).toBe(100);
  });

  it("put zero on an edge, so each bin is all losses or all gains", () => {
    const bins = pnlBins([-12, -3, 4, 9, 18, 1], 5);
    expect(bins.map((bin) => [bin.from, bin.to, bin.count])).toEqual([
      [-20, -10, 1],
      [-10, 0, 1],
      [0, 10, 3],
      [10, 20, 1],
    ]);
    expect(bins.map((bin) => bin.from)).toContain(0);
    for (const bin of bins) expect(bin.sign).toBe(bin.to <= 0 ? "loss" : "gain");
    expect(bins.reduce((sum, bin) => sum + bin.count, 0)).toBe(6);
  });

  it("count a value on an edge in the bin it opens, and the maximum in the last", () => {
    const bins = pnlBins([0, 10, 20], 2);
    expect(bins.map((bin) => [bin.from, bin.to, bin.count])).toEqual([
      [0, 10, 1],
      [10, 20, 1],
      [20, 30, 1],
    ]);
  });

  it("cope with one value, equal values, no values and non-finite ones", () => {
    expect(pnlBins([])).toEqual([]);
    expect(pnlBins([Number.NaN])).toEqual([]);
    const same = pnlBins([5, 5, 5]);
    expect(same.reduce((sum, bin) => sum + bin.count, 0)).toBe(3);
    expect(pnlBins([-2.5])[0].sign).toBe("loss");
  });

  it("aim at about √n bins between 5 and 30", () => {
    expect(binTarget(4)).toBe(5);
    expect(binTarget(400)).toBe(20);
    expect(binTarget(1e6)).toBe(30);
  });

  it("label bins with the decimals their width needs", () => {
    expect(edgeText(-50, 25)).toBe("−50");
    expect(edgeText(0.75, 0.25)).toBe("0.75");
    expect(edgeText(1.5, 0.5)).toBe("1.5");
    expect(edgeText(2500, 500)).toBe("2,500");
    expect(edgeText(-0, 5)).toBe("0");
    expect(binLabel({ from: -10, to: -5, count: 1, sign: "loss" })).toBe("−10 to −5");
    const floaty = pnlBins([0.1, 0.2, 0.3], 3);
    expect(floaty.every((bin) => String(bin.from).length < 6)).toBe(true);
  });

  it("draw gains green and losses red", () => {
    const option = histogramOption(pnlBins([-5, 5], 2), "USDT") as { series: { data: { itemStyle: { color: string } }[] }[]; xAxis: { name: string } };
    const colors = option.series[0].data.map((item) => item.itemStyle.color);
    expect(colors[0]).toBe("#ef4444");
    expect(colors[colors.length - 1]).toBe("#10b981");
    expect(option.xAxis.name).toBe("PnL per trade (USDT)");
  });
});
