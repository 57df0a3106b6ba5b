"use client";
// The system page's reads: /health (cheap: cached probes, so asked again every 15 s while the page is open)
// and /status (asks the workers, up to a second: fetched on opening and on "Refresh").

import { useQuery } from "@tanstack/react-query";

import { ApiError, get } from "@/lib/api";
import type { Health, PlatformStatus } from "@/lib/types";

/** /health's report, also when it answers 503 (Redis or MongoDB down): the body is the same report. */
export async function fetchHealth(): Promise<Health> {
  try {
    return await get<Health>("/health");
  } catch (error) {
    const body = error instanceof ApiError ? (error.body as Partial<Health>) : null;
    if (error instanceof ApiError && error.status === 503 && body?.redis && body.mongodb && body.celery) return body as Health;
    throw error;
  }
}

export function useHealth() {
  return useQuery({ queryKey: ["system", "health"], queryFn: fetchHealth, refetchInterval: 15_000, staleTime: 0 });
}

export function useStatus() {
  return useQuery({
    queryKey: ["system", "status"],
    queryFn: () => get<PlatformStatus>("/status"),
    staleTime: 0,
    retry: false,
  });
}
