"use client";

import { useParams } from "next/navigation";
import { Suspense } from "react";

import { ResultView } from "@/components/result/result-view";

export default function BacktestResultPage() {
  const { id } = useParams<{ id: string }>();
  return (
    <Suspense>
      <ResultView key={id} id={id} />
    </Suspense>
  );
}
