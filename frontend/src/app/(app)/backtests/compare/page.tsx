"use client";

import { Suspense } from "react";

import { CompareView } from "@/components/backtests/compare-view";

export default function CompareBacktestsPage() {
  return (
    <Suspense>
      <CompareView />
    </Suspense>
  );
}
