import type { BacktestSummary, Page } from "@/lib/types";

import { applyJobEvent, filtersFromSearch, type JobEvent, searchFromFilters, stateLabel } from "./runs";

const page = (items: BacktestSummary[]): Page<BacktestSummary> => ({ items, page: 1, per_page: 20, total: items.length });
const job = (fields: Partial<JobEvent>): JobEvent => ({ kind: "backtest", id: "a", state: "running", stage: "loading", chunks_done: 0, chunks_total: 1, ...fields });

describe("the runs list's filters", () => {
  it("are read from the URL, malformed ones left out", () => {
    expect(filtersFromSearch(new URLSearchParams("strategy_id=s1&symbol=btcusdt&state=done&page=3"))).toEqual({
      strategy_id: "s1",
      symbol: "BTCUSDT",
      state: "done",
      page: 3,
    });
    expect(filtersFromSearch(new URLSearchParams("state=bogus&page=-2"))).toEqual({ page: 1 });
  });

  it("go back into the URL, page 1 and empty ones left out", () => {
    expect(searchFromFilters({ page: 1 })).toBe("");
    expect(searchFromFilters({ symbol: "ETHUSDT", state: "failed", page: 2 })).toBe("symbol=ETHUSDT&state=failed&page=2");
  });
});

describe("a job event", () => {
  it("moves its run's row to the stage it entered", () => {
    const result = applyJobEvent(page([{ id: "a", state: "queued", progress: { stage: "queued" } }, { id: "b", state: "done" }]), job({ stage: "running" }));
    expect(result.found).toBe(true);
    expect(result.refetch).toBe(false);
    expect(result.page.items[0]).toMatchObject({ state: "running", progress: { stage: "running" } });
    expect(result.page.items[1]).toEqual({ id: "b", state: "done" });
  });

  it("asks for the page again when the run is done (its stats) or not on the page", () => {
    const done = applyJobEvent(page([{ id: "a", state: "running" }]), job({ state: "done", stage: "finished", chunks_done: 1 }));
    expect(done.page.items[0]).toMatchObject({ state: "done", progress: { stage: "done" } });
    expect(done.refetch).toBe(true);
    const other = applyJobEvent(page([{ id: "a" }]), job({ id: "z" }));
    expect(other).toMatchObject({ found: false, refetch: true });
  });

  it("carries a failed run's error", () => {
    const failed = applyJobEvent(page([{ id: "a", state: "running" }]), job({ state: "failed", stage: "finished", error: "no candles" }));
    expect(failed.page.items[0]).toMatchObject({ state: "failed", error: "no candles" });
  });
});

describe("the state column", () => {
  it("names the stage of a running run", () => {
    expect(stateLabel({ state: "running", progress: { stage: "loading" } })).toBe("running: loading");
    expect(stateLabel({ state: "running", progress: { stage: "running" } })).toBe("running");
    expect(stateLabel({ state: "done", progress: { stage: "done" } })).toBe("done");
  });
});
