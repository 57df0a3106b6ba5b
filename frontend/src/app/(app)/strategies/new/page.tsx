"use client";

import { StrategyEditor } from "@/components/strategies/strategy-editor";

export default function NewStrategyPage() {
  return <StrategyEditor id={null} />;
}
