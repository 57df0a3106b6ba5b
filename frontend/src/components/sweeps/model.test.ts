import { describe, expect, it } from "vitest";

import type { Sweep } from "@/lib/types";

import { applySweepJob, backtestRequest, bestValue, defaultDirection, formatObjective, paramsLabel, progressOf } from "./model";

const SWEEP: Sweep = {
  id: "w1",
  strategy_id: "s1",
  symbol: "BTCUSDT",
  timeframe: "1h",
  start: 1_700_000_000_000,
  end: null,
  cash: 5000,
  params: { fast: 10, slow: 20, stop: 0.02 },
  space: { fast: [5, 10], slow: [20, 40] },
  state: "running",
  combos: 4,
  chunks_total: 2,
  objective: "sharpe",
  progress: { chunks_total: 2, chunks_done: 1, chunks_running: 1, chunks_queued: 0, chunks_failed: 0, combos_done: 2 },
};

describe("a sweep's progress", () => {
  it("counts chunks and parameter sets", () => {
    expect(progressOf(SWEEP)).toEqual({ chunksDone: 1, chunksTotal: 2, chunksRunning: 1, chunksQueued: 0, chunksFailed: 0, combosDone: 2, combos: 4, fraction: 0.5 });
    expect(progressOf({ ...SWEEP, state: "done" }).fraction).toBe(1);
    expect(progressOf({ state: "queued", progress: undefined, chunks_total: 3 })).toMatchObject({ chunksDone: 0, chunksTotal: 3, fraction: 0 });
  });

  it("moves on with its own job events, chunks done only growing", () => {
    const event = { kind: "sweep" as const, id: "w1", state: "running", stage: "finished", chunks_done: 2, chunks_total: 2 };
    expect(progressOf(applySweepJob(SWEEP, event)).chunksDone).toBe(2);
    expect(progressOf(applySweepJob(SWEEP, { ...event, chunks_done: 0 })).chunksDone).toBe(1);
    expect(applySweepJob(SWEEP, { ...event, state: "failed", error: "chunk 1: boom" })).toMatchObject({ state: "failed", error: "chunk 1: boom" });
    expect(applySweepJob(SWEEP, { ...event, id: "other" })).toBe(SWEEP);
    expect(applySweepJob(SWEEP, { ...event, kind: "backtest" })).toBe(SWEEP);
  });
});

describe("backtest these params", () => {
  it("runs the sweep's strategy, symbol, range and cash with its params and the set's", () => {
    expect(backtestRequest(SWEEP, { fast: 5, slow: 40 })).toEqual({
      strategy_id: "s1",
      symbol: "BTCUSDT",
      start: 1_700_000_000_000,
      cash: 5000,
      params: { fast: 5, slow: 40, stop: 0.02 },
    });
  });
});

describe("objectives", () => {
  it("show with their units and rank the way that is better", () => {
    expect(formatObjective("sharpe", 1.234)).toBe("1.23");
    expect(formatObjective("return_pct", 12.3)).toBe("+12.30 %");
    expect(formatObjective("unknown_stat", 2)).toBe("2.00");
    expect(formatObjective("sharpe", null)).toBe("—");
    expect(defaultDirection("volatility_ann_pct")).toBe("min");
    expect(defaultDirection("sharpe")).toBe("max");
  });

  it("read the best result's objective", () => {
    expect(bestValue({ objective: "sharpe", best: { params: {}, stats: { sharpe: 1.5 } } })).toBe(1.5);
    expect(bestValue({ objective: "sharpe", best: null })).toBeNull();
  });

  it("name a parameter set in the sweep's order", () => {
    expect(paramsLabel({ slow: 20, fast: 5, stop: 0.02 }, ["fast", "slow"])).toBe("fast=5, slow=20, stop=0.02");
  });
});
