"use client";

import { useEffect, useState } from "react";

/** The current time, renewed every ``everyMs`` (for "3m ago" and ages that grow while a page is open). */
export function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), everyMs);
    return () => window.clearInterval(timer);
  }, [everyMs]);
  return now;
}
