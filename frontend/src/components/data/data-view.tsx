"use client";
// The data page: the stored candle series, a CSV import, and a preview chart of the series picked.

import type { ColumnDef } from "@tanstack/react-table";
import { useMemo, useState } from "react";

import { DataTable } from "@/components/data-table";
import { Card, EmptyState, ErrorNotice, PageHeader, Skeleton } from "@/components/ui";
import { formatNumber, formatTime } from "@/lib/format";
import { useSettings } from "@/lib/settings";

import { CandlePreview } from "./candle-preview";
import { findSeries, type Series, seriesKey } from "./candles";
import { useSeriesList } from "./queries";
import { UploadForm } from "./upload-form";

export function DataView() {
  const { zone } = useSettings();
  const series = useSeriesList();
  const [picked, setPicked] = useState<{ symbol: string; timeframe: string } | null>(null);
  const shown = findSeries(series.data, picked?.symbol, picked?.timeframe) ?? series.data?.[0];
  const shownKey = shown ? seriesKey(shown) : null;

  const columns = useMemo<ColumnDef<Series, unknown>[]>(
    () => [
      { id: "symbol", header: "Symbol", accessorFn: (row) => row.symbol ?? "", cell: ({ row }) => <span className="font-medium">{row.original.symbol}</span> },
      { id: "timeframe", header: "Timeframe", accessorFn: (row) => row.timeframe ?? "" },
      { id: "first", header: "First candle", accessorFn: (row) => row.first_ts ?? 0, cell: ({ row }) => formatTime(row.original.first_ts, zone, false) },
      { id: "last", header: "Last candle", accessorFn: (row) => row.last_ts ?? 0, cell: ({ row }) => formatTime(row.original.last_ts, zone, false) },
      { id: "count", header: "Candles", accessorFn: (row) => row.count ?? 0, sortDescFirst: true, cell: ({ row }) => formatNumber(row.original.count, 0) },
      {
        id: "preview",
        header: () => <span className="sr-only">Preview</span>,
        enableSorting: false,
        cell: ({ row }) => {
          const active = seriesKey(row.original) === shownKey;
          return (
            <button
              type="button"
              aria-pressed={active}
              aria-label={`Preview ${row.original.symbol} ${row.original.timeframe}`}
              onClick={() => setPicked({ symbol: row.original.symbol ?? "", timeframe: row.original.timeframe ?? "" })}
              className={`rounded px-2 py-0.5 text-xs font-medium ${active ? "bg-sky-700 text-white" : "text-sky-700 hover:bg-sky-50 dark:text-sky-400 dark:hover:bg-slate-800"}`}
            >
              {active ? "Shown" : "Preview"}
            </button>
          );
        },
      },
    ],
    [zone, shownKey],
  );

  return (
    <>
      <PageHeader title="Data" subtitle="The historical candles backtests and sweeps run on, by symbol and timeframe." />
      {/* Side by side only on wide screens: on a laptop the table needs the whole width. */}
      <div className="mb-6 grid gap-6 2xl:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <Card title="Stored series">
          {series.isPending ? (
            <div className="flex flex-col gap-2" data-testid="series-loading">
              {Array.from({ length: 4 }, (_, index) => (
                <Skeleton key={index} className="h-8" />
              ))}
            </div>
          ) : series.error ? (
            <ErrorNotice error={series.error} />
          ) : !series.data?.length ? (
            <EmptyState title="No candles stored yet">
              Import a CSV file with the form (one row per candle: timestamp, open, high, low, close, volume), or from a shell with{" "}
              <code className="font-mono">tickflow import-candles FILE --symbol BTCUSDT --timeframe 1h</code>.
            </EmptyState>
          ) : (
            <DataTable rows={series.data} columns={columns} caption="Stored candle series" rowTestId="series-row" />
          )}
        </Card>
        <Card title="Import a CSV file">
          <UploadForm onImported={(symbol, timeframe) => setPicked({ symbol, timeframe })} />
        </Card>
      </div>
      {shown && (
        <Card title={`Preview: ${shown.symbol} ${shown.timeframe}`}>
          <CandlePreview key={`${shownKey}-${shown.last_ts}-${shown.count}`} series={shown} />
        </Card>
      )}
    </>
  );
}
