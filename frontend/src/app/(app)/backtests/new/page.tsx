"use client";

import { Suspense } from "react";

import { LaunchForm } from "@/components/backtests/launch-form";
import { PageHeader } from "@/components/ui";

export default function NewBacktestPage() {
  return (
    <>
      <PageHeader title="New backtest" subtitle="Run a strategy on stored candles. The run is queued for a backtest worker; its state follows here and in the runs list." />
      <Suspense>
        <LaunchForm />
      </Suspense>
    </>
  );
}
