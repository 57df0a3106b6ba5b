// StreamHub in a browser: leadership by Web Locks, pausing with the page's visibility.

import { post } from "./api";
import { StreamHub, type Ticket } from "./stream";

const LOCK = "tickflow-stream";

export function browserStreamHub(): StreamHub {
  const channel = typeof BroadcastChannel === "undefined" ? null : new BroadcastChannel(LOCK);
  return new StreamHub({
    ticket: () => post<Ticket>("/live/stream/ticket"),
    open: (url) => new EventSource(url),
    storage: window.localStorage,
    channel,
    setTimeout: (callback, ms) => window.setTimeout(callback, ms),
  });
}

/** Lead the stream whenever this tab is visible and no other visible tab does; returns a stop function. */
export function runBrowserStream(hub: StreamHub): () => void {
  let release: (() => void) | null = null;
  let waiting: AbortController | null = null;

  const wantToLead = () => {
    if (document.visibilityState !== "visible" || release || waiting) return;
    if (!navigator.locks) {
      release = () => hub.pause();
      void hub.lead();
      return;
    }
    const controller = new AbortController();
    waiting = controller;
    navigator.locks
      .request(LOCK, { signal: controller.signal }, () => {
        waiting = null;
        return new Promise<void>((resolve) => {
          release = () => {
            hub.pause();
            resolve();
          };
          void hub.lead();
        });
      })
      .catch(() => undefined); // aborted while waiting: the tab was hidden first
  };

  const stepDown = () => {
    waiting?.abort();
    waiting = null;
    release?.();
    release = null;
  };

  const onVisibility = () => (document.visibilityState === "visible" ? wantToLead() : stepDown());
  document.addEventListener("visibilitychange", onVisibility);
  wantToLead();
  return () => {
    document.removeEventListener("visibilitychange", onVisibility);
    stepDown();
  };
}
