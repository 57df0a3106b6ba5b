"use client";
// Every closed trade of a done run, read once (pages of 1,000) and shared by the breakdowns, the histogram and
// the CSV export; ``read`` counts the trades in so far, for a progress line.

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useMemo, useState } from "react";

import type { Backtest } from "@/lib/types";

import type { Trade } from "./breakdown";
import { allTradesKey, fetchAllTrades } from "./queries";

export interface AllTrades {
  data: Trade[] | undefined;
  error: unknown;
  isPending: boolean;
  read: number;
  total: number;
  /** The trades, read now if they are not yet (the export's way in, which also retries a failed read). */
  ensure(): Promise<Trade[]>;
}

/** ``enabled``: false to hold the reading back (the page draws its candles first). */
export function useAllTrades(run: Backtest, enabled = true): AllTrades {
  const id = run.id ?? "";
  const total = run.n_trades ?? 0;
  const queryClient = useQueryClient();
  const [read, setRead] = useState(0);
  const queryFn = useCallback(() => fetchAllTrades(id, total, (count) => setRead(count)), [id, total]);
  const query = useQuery({ queryKey: allTradesKey(id, total), queryFn, staleTime: Infinity, enabled: enabled && run.state === "done" });
  const ensure = useCallback(() => queryClient.fetchQuery({ queryKey: allTradesKey(id, total), queryFn, staleTime: Infinity }), [queryClient, id, total, queryFn]);
  return useMemo(
    () => ({ data: query.data, error: query.error, isPending: query.isPending, read, total, ensure }),
    [query.data, query.error, query.isPending, read, total, ensure],
  );
}
