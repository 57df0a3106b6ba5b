"use client";

import { useParams } from "next/navigation";

import { StrategyEditor } from "@/components/strategies/strategy-editor";

export default function StrategyPage() {
  const { id } = useParams<{ id: string }>();
  // A new key per strategy: the editor's state (text, version) belongs to the one it loaded.
  return <StrategyEditor key={id} id={id} />;
}
