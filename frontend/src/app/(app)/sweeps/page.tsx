"use client";

import { Suspense } from "react";

import { SweepsList } from "@/components/sweeps/sweeps-list";

export default function SweepsPage() {
  return (
    <Suspense>
      <SweepsList />
    </Suspense>
  );
}
