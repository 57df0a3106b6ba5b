"use client";
// The last few hundred candles of a stored series, drawn.

import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";

import { CandleChart } from "@/components/charts/candle-chart";
import { EmptyState, ErrorNotice, Skeleton } from "@/components/ui";
import { get } from "@/lib/api";
import { formatNumber, formatTime } from "@/lib/format";
import { useSettings } from "@/lib/settings";

import { candleColumns, PREVIEW_CANDLES, previewStart, type Series, type StoredCandle } from "./candles";

export function CandlePreview({ series }: { series: Series }) {
  const { zone } = useSettings();
  const start = previewStart(series);
  const candles = useQuery({
    queryKey: ["candles", "preview", series.symbol, series.timeframe, start],
    queryFn: () =>
      get<{ items?: StoredCandle[]; total?: number }>(`/candles/${encodeURIComponent(series.symbol ?? "")}/${series.timeframe}`, {
        start,
        per_page: PREVIEW_CANDLES,
      }),
  });
  const columns = useMemo(() => candleColumns(candles.data?.items ?? []), [candles.data]);

  if (candles.isPending) return <Skeleton className="h-[420px]" />;
  if (candles.error) return <ErrorNotice error={candles.error} />;
  if (columns.t.length === 0) return <EmptyState title="No candles in this series">Import a CSV file into it with the form above.</EmptyState>;
  return (
    <>
      <p className="mb-2 text-sm text-slate-600 dark:text-slate-400" data-testid="preview-caption">
        {columns.t.length >= (series.count ?? 0)
          ? `All ${formatNumber(columns.t.length, 0)} candles`
          : `The last ${formatNumber(columns.t.length, 0)} of ${formatNumber(series.count, 0)} candles`}
        : {formatTime(columns.t[0], zone, false)} → {formatTime(columns.t[columns.t.length - 1], zone, false)}
      </p>
      <CandleChart candles={columns} height={420} label={`Candles of ${series.symbol} ${series.timeframe}, the last ${columns.t.length}`} />
    </>
  );
}
