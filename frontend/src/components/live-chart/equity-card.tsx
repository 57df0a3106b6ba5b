"use client";
// The strategy's live equity at every close it traded (read again after closes and fills, so it grows live).

import { useMemo } from "react";

import type { Curve } from "@/components/charts/line-chart";
import { LineChart } from "@/components/charts/line-chart";
import { Card, EmptyState, ErrorNotice, Skeleton } from "@/components/ui";
import { formatMoney, formatTime, type TimeZoneChoice } from "@/lib/format";

import type { EquityHistory } from "./queries";

export function equityCurves(history: EquityHistory): Curve[] {
  return [
    { name: "Equity", t: history.t, values: history.equity, color: "#2563eb" },
    { name: "Balance", t: history.t, values: history.balance, color: "#94a3b8" },
  ];
}

export function EquityCard({ query, unit, timeframe, zone }: {
  query: { data?: EquityHistory; error: unknown; isPending: boolean };
  unit: string;
  timeframe: string;
  zone: TimeZoneChoice;
}) {
  const history = query.data;
  const curves = useMemo(() => (history ? equityCurves(history) : []), [history]);
  const points = history?.t.length ?? 0;
  const last = points ? history?.equity[points - 1] : undefined;
  return (
    <Card
      title="Live equity"
      actions={
        points ? (
          <span className="tabular text-sm text-slate-600 dark:text-slate-300" data-testid="equity-last">
            {formatMoney(last)} {unit} at {formatTime(history?.t[points - 1], zone, false)}
          </span>
        ) : null
      }
    >
      {query.isPending ? (
        <Skeleton className="h-64" />
      ) : query.error ? (
        <ErrorNotice error={query.error} />
      ) : points === 0 ? (
        <EmptyState title="No equity points yet">
          While the strategy trades, each {timeframe} close adds a point: its accounts summed, open positions marked at the last price.
        </EmptyState>
      ) : (
        <>
          <LineChart curves={curves} height={260} label={`Live equity (${unit || "quote currency"}) and balance over time`} />
          <p className="mt-2 text-xs text-slate-500 dark:text-slate-400">
            {points} {points === 1 ? "point" : "points"}
            {history?.sampled ? " (sampled: the last of each equal slice of time)" : ""}. Equity marks open positions at the last price; balance is cash plus
            realised PnL.
          </p>
        </>
      )}
    </Card>
  );
}
