"use client";
// "Export CSV": reads every trade of the current filter (pages of 500, up to MAX_ROWS), builds the CSV here and
// hands it to the browser as a download.

import { useState } from "react";

import { useToast } from "@/components/toasts";
import { Button } from "@/components/ui";
import { ApiError } from "@/lib/api";
import { formatNumber } from "@/lib/format";

import { csvFileName, tradesToCsv } from "./csv";
import type { TradeQuery } from "./filters";
import { fetchAllTrades, MAX_ROWS } from "./queries";

function download(text: string, name: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function ExportButton({ query, nameParts, nameOf, disabled }: {
  query: TradeQuery;
  nameParts: string[];
  nameOf: (id: string) => string;
  disabled?: boolean;
}) {
  const toast = useToast();
  const [progress, setProgress] = useState<string | null>(null);

  async function exportCsv() {
    setProgress("Exporting…");
    try {
      const all = await fetchAllTrades(query, MAX_ROWS, (read, total) => setProgress(`Exporting ${formatNumber(read, 0)} of ${formatNumber(Math.min(total, MAX_ROWS), 0)}…`));
      download(tradesToCsv(all.items, nameOf), csvFileName(nameParts));
      toast(
        all.truncated
          ? { title: `Exported the newest ${formatNumber(all.items.length, 0)} trades`, body: `${formatNumber(all.total, 0)} match; narrow the filters to export the rest.`, tone: "info" }
          : { title: `Exported ${formatNumber(all.items.length, 0)} ${all.items.length === 1 ? "trade" : "trades"}`, tone: "success" },
      );
    } catch (error) {
      toast({ title: "The export failed", body: error instanceof ApiError ? error.message : String(error), tone: "error" });
    } finally {
      setProgress(null);
    }
  }

  return (
    <Button onClick={() => void exportCsv()} disabled={disabled || progress !== null} aria-live="polite">
      {progress ?? "Export CSV"}
    </Button>
  );
}
