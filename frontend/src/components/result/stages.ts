// A run's way to its result (queued → claimed → loading → running → storing → done), and what a `job` event
// of the live stream changes in it.

import { FINAL_STATES, type JobEvent } from "@/components/backtests/runs";
import type { Backtest } from "@/lib/types";

export const STAGES = ["queued", "claimed", "loading", "running", "storing", "done"] as const;
export type Stage = (typeof STAGES)[number];

export const STAGE_LABELS: Record<Stage, string> = {
  queued: "Queued",
  claimed: "Claimed by a worker",
  loading: "Loading candles",
  running: "Running",
  storing: "Storing results",
  done: "Done",
};

export type StepStatus = "done" | "current" | "failed" | "todo";

/** The stage a run is in: its progress's, else what its state implies. */
export function stageOf(run: Pick<Backtest, "state" | "progress">): string {
  const stage = run.progress?.stage;
  if (typeof stage === "string" && stage) return stage;
  return run.state === "running" ? "running" : (run.state ?? "queued");
}

/**
 * Each stage with where the run is: those passed are done, the one it is in is current (failed when the run
 * failed there), the rest to do. A done run has passed them all.
 */
export function stageSteps(run: Pick<Backtest, "state" | "progress">): { stage: Stage; status: StepStatus }[] {
  const stage = stageOf(run);
  const reached = run.state === "done" ? STAGES.length - 1 : Math.max(0, STAGES.indexOf(stage as Stage));
  return STAGES.map((name, index) => ({
    stage: name,
    status:
      index < reached || run.state === "done"
        ? "done"
        : index === reached
          ? run.state === "failed"
            ? "failed"
            : "current"
          : "todo",
  }));
}

/**
 * The run with a `job` event of it applied: its state, its stage and its error. A run that already ended
 * keeps its end (an event of a losing execution may come after it); a failed run keeps the stage it failed in.
 */
export function applyJob(run: Backtest, event: JobEvent): Backtest {
  if (event.kind !== "backtest" || event.id !== run.id) return run;
  if (FINAL_STATES.has(run.state ?? "") && !FINAL_STATES.has(event.state)) return run;
  const finished = event.stage === "finished";
  const stage = finished ? (event.state === "failed" ? stageOf(run) : event.state) : event.stage;
  return {
    ...run,
    state: event.state as Backtest["state"],
    progress: { ...(run.progress ?? {}), stage },
    ...(event.error ? { error: event.error } : {}),
  };
}

/** The stages a page saw a run enter, in order, each once (the log of what moved while it was open). */
export function seenStages(seen: { stage: string; at: number }[], stage: string, at: number): { stage: string; at: number }[] {
  if (seen.length && seen[seen.length - 1].stage === stage) return seen;
  return [...seen, { stage, at }];
}
