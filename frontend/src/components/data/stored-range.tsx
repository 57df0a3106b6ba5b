"use client";
// What the launch forms (backtest, sweep) show under the symbol: the stored candles' range, or where to import some.

import Link from "next/link";

import { formatNumber, formatTime } from "@/lib/format";
import { useSettings } from "@/lib/settings";

import type { Series } from "./candles";

export function StoredRange({ stored, symbol, timeframe }: { stored: Series | undefined; symbol: string; timeframe: string | undefined }) {
  const { zone } = useSettings();
  return (
    <div className="rounded-md bg-slate-50 p-3 text-sm dark:bg-slate-800" data-testid="stored-range">
      {stored ? (
        <>
          Stored {stored.symbol} {stored.timeframe} candles: {formatTime(stored.first_ts, zone, false)} → {formatTime(stored.last_ts, zone, false)} (
          {formatNumber(stored.count, 0)} candles)
        </>
      ) : (
        <span className="text-amber-800 dark:text-amber-300">
          No {symbol} {timeframe} candles are stored. Import some on the{" "}
          <Link href="/data" className="underline">
            Data
          </Link>{" "}
          page first.
        </span>
      )}
    </div>
  );
}
