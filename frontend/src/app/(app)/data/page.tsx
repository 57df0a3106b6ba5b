"use client";

import { DataView } from "@/components/data/data-view";

export default function DataPage() {
  return <DataView />;
}
