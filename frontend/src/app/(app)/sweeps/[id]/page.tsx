"use client";

import { Suspense } from "react";

import { SweepView } from "@/components/sweeps/sweep-view";

export default function SweepPage() {
  return (
    <Suspense>
      <SweepView />
    </Suspense>
  );
}
