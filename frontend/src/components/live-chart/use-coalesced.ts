"use client";

import { useCallback, useEffect, useRef } from "react";

/**
 * A way to ask for ``run`` that runs it ``delayMs`` after the first ask, once for any number of asks meanwhile,
 * never twice at a time: an ask while it runs runs it once more afterwards. For reads a burst of stream events
 * calls for.
 */
export function useCoalesced(run: () => Promise<unknown> | void, delayMs: number): () => void {
  const latest = useRef(run);
  latest.current = run;
  const state = useRef({ timer: null as number | null, running: false, again: false, gone: false });

  useEffect(() => {
    const current = state.current;
    current.gone = false;
    return () => {
      current.gone = true;
      if (current.timer !== null) window.clearTimeout(current.timer);
      current.timer = null;
    };
  }, []);

  const ask = useCallback(() => {
    const current = state.current;
    if (current.gone) return;
    if (current.running) {
      current.again = true;
      return;
    }
    if (current.timer !== null) return;
    current.timer = window.setTimeout(async () => {
      current.timer = null;
      current.running = true;
      try {
        await latest.current();
      } catch {
        // the next ask tries again; the page shows what it has
      } finally {
        current.running = false;
        if (current.again) {
          current.again = false;
          ask();
        }
      }
    }, delayMs);
  }, [delayMs]);

  return ask;
}
