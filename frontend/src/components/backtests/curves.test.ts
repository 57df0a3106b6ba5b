import { decimate, normalisedCurve, parseIds } from "./curves";

describe("equity curves to compare", () => {
  it("are scaled to 100 at their first point", () => {
    const curve = normalisedCurve("a", { ts: [1, 2, 3], equity: [10_000, 12_000, 9_000] });
    expect(curve.t).toEqual([1, 2, 3]);
    expect(curve.values).toEqual([100, 120, 90]);
  });

  it("keep every peak and trough, and both ends, when thinned", () => {
    const values = Array.from({ length: 10_000 }, (_, i) => 100 + Math.sin(i / 50) * 10);
    values[4321] = 500;
    values[7777] = 1;
    const kept = decimate(values, 200);
    expect(kept.length).toBeLessThanOrEqual(202);
    expect(kept[0]).toBe(0);
    expect(kept[kept.length - 1]).toBe(9_999);
    expect(kept).toContain(4321);
    expect(kept).toContain(7777);
    expect([...kept].sort((a, b) => a - b)).toEqual(kept);
  });

  it("are left whole when short enough", () => {
    expect(decimate([1, 2, 3], 10)).toEqual([0, 1, 2]);
  });
});

describe("the runs of ?ids=", () => {
  it("are well-formed ids, each once", () => {
    const a = "6650c3e2f1a4b2c3d4e5f601";
    const b = "6650C3E2F1A4B2C3D4E5F602";
    expect(parseIds(`${a}, ${b},${a},nope,`)).toEqual([a, b.toLowerCase()]);
    expect(parseIds(null)).toEqual([]);
  });
});
