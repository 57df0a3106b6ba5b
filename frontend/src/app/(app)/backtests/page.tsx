"use client";

import { Suspense } from "react";

import { RunsList } from "@/components/backtests/runs-list";

export default function BacktestsPage() {
  return (
    <Suspense>
      <RunsList />
    </Suspense>
  );
}
