import { formatDuration, formatMoney, formatPercent, formatPrice, formatQuantity, formatTime } from "./format";

describe("formatting", () => {
  it("shows times in UTC by default with the zone named", () => {
    expect(formatTime(Date.UTC(2026, 11, 4, 16, 5, 9), "utc")).toBe("2026-12-04 16:05:09 UTC");
    expect(formatTime(Date.UTC(2026, 11, 4, 16, 5, 9), "utc", false)).toBe("2026-12-04 16:05 UTC");
  });

  it("names the offset when it shows local time", () => {
    expect(formatTime(Date.UTC(2026, 0, 1), "local")).toMatch(/ UTC[+−]\d\d:\d\d$/);
  });

  it("signs gains and losses with a real minus and keeps two decimals of money", () => {
    expect(formatMoney(1234.5, true)).toBe("+1,234.50");
    expect(formatMoney(-3)).toBe("−3.00");
    expect(formatPercent(-0.1234)).toBe("−12.34 %");
    expect(formatPercent(0.05, true)).toBe("+5.00 %");
  });

  it("gives small prices and crypto quantities the digits they need", () => {
    expect(formatPrice(60123.456)).toBe("60,123.46");
    expect(formatPrice(0.00012345)).toBe("0.00012345");
    expect(formatQuantity(0.00123)).toBe("0.00123");
  });

  it("shows a missing or NaN value as a dash", () => {
    expect(formatMoney(null)).toBe("—");
    expect(formatPercent(Number.NaN)).toBe("—");
    expect(formatTime(undefined, "utc")).toBe("—");
  });

  it("shows durations with their two largest units", () => {
    expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000 + 5000)).toBe("3d 4h");
    expect(formatDuration(42_000)).toBe("42s");
    expect(formatDuration(0)).toBe("0s");
  });
});
