import { startErrors } from "./start-schema";

describe("the start form's validation", () => {
  it("accepts a strategy, paper or live, and positive cash", () => {
    expect(startErrors({ strategyId: "abc", mode: "paper", cash: 10_000 })).toEqual({});
    expect(startErrors({ strategyId: "abc", mode: "live", cash: 10_000 })).toEqual({});
  });

  it("asks for a strategy and cash above zero", () => {
    expect(startErrors({ strategyId: "", mode: "paper", cash: 0 })).toEqual({
      strategyId: "Pick a strategy to start.",
      cash: "Cash must be more than 0.",
    });
    expect(startErrors({ strategyId: "abc", mode: "paper", cash: -5 }).cash).toBe("Cash must be more than 0.");
  });

  it("explains an empty cash field (NaN from the number input)", () => {
    expect(startErrors({ strategyId: "abc", mode: "paper", cash: Number.NaN }).cash).toBe("Enter the cash each account starts with, e.g. 10000.");
  });

  it("refuses other modes and absurd cash", () => {
    expect(startErrors({ strategyId: "abc", mode: "margin", cash: 1 }).mode).toBe("Choose paper or live.");
    expect(startErrors({ strategyId: "abc", mode: "paper", cash: 1e16 }).cash).toMatch(/at most/);
  });
});
