"use client";
// "Export CSV": every trade of the run (closed, then those open at the end), as a CSV built here and downloaded.

import { useState } from "react";

import { useToast } from "@/components/toasts";
import { Button } from "@/components/ui";
import { ApiError } from "@/lib/api";
import { formatNumber } from "@/lib/format";
import type { Backtest } from "@/lib/types";

import type { AllTrades } from "./all-trades";
import type { Trade } from "./breakdown";
import { backtestCsvName, backtestTradesCsv } from "./csv";

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

export function ExportTradesButton({ run, trades }: { run: Backtest; trades: AllTrades }) {
  const toast = useToast();
  const [busy, setBusy] = useState(false);
  const open = (run.open_trades ?? []) as Trade[];
  const none = (run.n_trades ?? 0) === 0 && open.length === 0;

  async function exportCsv() {
    setBusy(true);
    try {
      const closed = await trades.ensure();
      download(backtestTradesCsv(closed, open), backtestCsvName(run));
      const count = closed.length + open.length;
      toast({ tone: "success", title: `Exported ${formatNumber(count, 0)} ${count === 1 ? "trade" : "trades"}`, body: open.length ? `${open.length} of them open at the end.` : undefined });
    } catch (error) {
      toast({ tone: "error", title: "The export failed", body: error instanceof ApiError ? error.message : String(error) });
    } finally {
      setBusy(false);
    }
  }

  const reading = busy && trades.isPending && trades.total > 0;
  return (
    <Button onClick={() => void exportCsv()} disabled={busy || none} title={none ? "This run has no trade to export" : "Download every trade of this run as CSV"} aria-live="polite">
      {reading ? `Reading ${formatNumber(trades.read, 0)} of ${formatNumber(trades.total, 0)}…` : busy ? "Exporting…" : "Export CSV"}
    </Button>
  );
}
