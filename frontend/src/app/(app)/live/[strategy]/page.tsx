"use client";

import { Suspense } from "react";

import { LiveChartView } from "@/components/live-chart/live-chart-view";

export default function LiveChartPage() {
  return (
    <Suspense>
      <LiveChartView />
    </Suspense>
  );
}
