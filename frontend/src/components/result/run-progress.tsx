"use client";
// A queued or running run's stages, moving as `job` events arrive; a failed run's, stopped where it failed.

import { useStreamState } from "@/components/stream-provider";
import { formatTime } from "@/lib/format";
import { useSettings } from "@/lib/settings";
import type { Backtest } from "@/lib/types";

import { STAGE_LABELS, stageOf, stageSteps, type StepStatus } from "./stages";

const MARKS: Record<StepStatus, { icon: string; className: string; sr: string }> = {
  done: { icon: "✓", className: "border-emerald-600 bg-emerald-600 text-white", sr: "done" },
  current: { icon: "•", className: "border-sky-600 bg-sky-50 text-sky-700 animate-pulse dark:bg-sky-950 dark:text-sky-300", sr: "in progress" },
  failed: { icon: "✕", className: "border-rose-600 bg-rose-600 text-white", sr: "failed here" },
  todo: { icon: "", className: "border-slate-300 bg-white dark:border-slate-600 dark:bg-slate-900", sr: "to come" },
};

export function RunProgress({ run, seen }: { run: Backtest; seen: { stage: string; at: number }[] }) {
  const { zone } = useSettings();
  const stream = useStreamState();
  const live = stream === "open" || stream === "follower";
  const steps = stageSteps(run);
  const seenAt = new Map(seen.map((entry) => [entry.stage, entry.at]));
  const progress = run.progress as { step?: number; steps?: number } | undefined;
  return (
    <div>
      <ol className="flex flex-wrap items-start gap-x-2 gap-y-4" aria-label="Stages of the run" data-testid="run-stages" data-stage={stageOf(run)}>
        {steps.map((step, index) => {
          const mark = MARKS[step.status];
          const at = seenAt.get(step.stage);
          return (
            <li key={step.stage} className="flex items-start gap-2" data-stage={step.stage} data-status={step.status} aria-current={step.status === "current" ? "step" : undefined}>
              <span aria-hidden className={`flex h-6 w-6 shrink-0 items-center justify-center rounded-full border-2 text-xs font-bold ${mark.className}`}>
                {mark.icon}
              </span>
              <span className="flex flex-col">
                <span className={`text-sm ${step.status === "current" || step.status === "failed" ? "font-semibold" : ""} ${step.status === "todo" ? "text-slate-500 dark:text-slate-400" : ""}`}>
                  {STAGE_LABELS[step.stage]}
                  <span className="sr-only">: {mark.sr}</span>
                </span>
                {at !== undefined && <span className="tabular text-xs text-slate-500 dark:text-slate-400">{formatTime(at, zone)}</span>}
              </span>
              {index < steps.length - 1 && <span aria-hidden className="mt-3 hidden h-px w-6 bg-slate-300 sm:inline-block dark:bg-slate-600" />}
            </li>
          );
        })}
      </ol>
      <p className="mt-4 text-sm text-slate-600 dark:text-slate-400" role="status">
        {run.state === "failed"
          ? `It failed while ${stageOf(run) === "loading" ? "loading its candles" : `in stage “${stageOf(run)}”`}.`
          : run.state === "queued"
            ? "Waiting for a backtest worker to pick it up."
            : `Now: ${STAGE_LABELS[stageOf(run) as keyof typeof STAGE_LABELS] ?? stageOf(run)}${progress?.step && progress.steps ? ` (step ${progress.step} of ${progress.steps})` : ""}.`}{" "}
        {run.state !== "failed" &&
          (live
            ? "This page follows it live: the results appear here as soon as it is done."
            : "Live updates are not connected yet: the stages move once they are (or reload the page).")}
      </p>
    </div>
  );
}
