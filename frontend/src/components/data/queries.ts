// The stored series (GET /candles), shared by the data page and the backtest launch form.

import { useQuery } from "@tanstack/react-query";

import { get } from "@/lib/api";

import type { Series } from "./candles";

export const SERIES_KEY = ["candles", "series"] as const;

export function useSeriesList() {
  return useQuery({
    queryKey: SERIES_KEY,
    queryFn: async () => (await get<{ items?: Series[] }>("/candles")).items ?? [],
  });
}
