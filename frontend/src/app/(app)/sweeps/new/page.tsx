"use client";

import { Suspense } from "react";

import { SweepForm } from "@/components/sweeps/sweep-form";
import { PageHeader } from "@/components/ui";

export default function NewSweepPage() {
  return (
    <>
      <PageHeader
        title="New sweep"
        subtitle="Run a strategy over a grid of its params on stored candles. The combinations are split into chunks for the backtest workers; their results follow on the sweep's page."
      />
      <Suspense>
        <SweepForm />
      </Suspense>
    </>
  );
}
