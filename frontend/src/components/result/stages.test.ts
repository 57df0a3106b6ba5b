import type { JobEvent } from "@/components/backtests/runs";
import type { Backtest } from "@/lib/types";

import { applyJob, seenStages, stageOf, stageSteps } from "./stages";

const queued: Backtest = { id: "r1", state: "queued", progress: { stage: "queued" } };
const job = (state: string, stage: string, extra: Partial<JobEvent> = {}): JobEvent => ({ kind: "backtest", id: "r1", state, stage, chunks_done: 0, chunks_total: 1, ...extra });

describe("a run's stages", () => {
  it("follows job events: each stage, then the state the run ended in", () => {
    let run = applyJob(queued, job("running", "loading"));
    expect(run.state).toBe("running");
    expect(stageOf(run)).toBe("loading");
    run = applyJob(run, job("running", "storing"));
    expect(stageOf(run)).toBe("storing");
    run = applyJob(run, job("done", "finished", { chunks_done: 1 }));
    expect(run.state).toBe("done");
    expect(stageOf(run)).toBe("done");
  });

  it("keeps the stage a failed run failed in, and its error", () => {
    const running = applyJob(queued, job("running", "loading"));
    const failed = applyJob(running, job("failed", "finished", { error: "no BTCUSDT 1h candles" }));
    expect(failed.state).toBe("failed");
    expect(failed.error).toBe("no BTCUSDT 1h candles");
    expect(stageOf(failed)).toBe("loading");
    expect(stageSteps(failed).map((step) => step.status)).toEqual(["done", "done", "failed", "todo", "todo", "todo"]);
  });

  it("ignores events of other runs and of sweeps, and never reopens a run that ended", () => {
    expect(applyJob(queued, { ...job("running", "loading"), id: "r2" })).toBe(queued);
    expect(applyJob(queued, { ...job("running", "loading"), kind: "sweep" })).toBe(queued);
    const cancelled: Backtest = { id: "r1", state: "cancelled", progress: { stage: "cancelled" } };
    expect(applyJob(cancelled, job("running", "storing"))).toBe(cancelled);
  });

  it("marks the stages passed, the current one and those to come", () => {
    expect(stageSteps(queued).map((step) => step.status)).toEqual(["current", "todo", "todo", "todo", "todo", "todo"]);
    expect(stageSteps({ state: "running", progress: { stage: "running" } }).map((step) => step.status)).toEqual(["done", "done", "done", "current", "todo", "todo"]);
    expect(stageSteps({ state: "done", progress: { stage: "done" } }).every((step) => step.status === "done")).toBe(true);
    expect(stageOf({ state: "running" })).toBe("running"); // no progress yet
  });

  it("logs each stage once, in the order seen", () => {
    let seen = seenStages([], "queued", 1);
    seen = seenStages(seen, "queued", 2);
    seen = seenStages(seen, "loading", 3);
    expect(seen).toEqual([
      { stage: "queued", at: 1 },
      { stage: "loading", at: 3 },
    ]);
  });
});
