"use client";
// One StreamHub for the page, led when this tab is visible; components subscribe to the event types they show.

import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from "react";

import { getToken } from "@/lib/auth";
import type { StreamEvent, StreamHub, StreamState } from "@/lib/stream";
import { browserStreamHub, runBrowserStream } from "@/lib/stream-browser";

const HubContext = createContext<StreamHub | null>(null);

export function StreamProvider({ children }: { children: ReactNode }) {
  const [hub, setHub] = useState<StreamHub | null>(null);
  useEffect(() => {
    if (!getToken()) return;
    const created = browserStreamHub();
    setHub(created);
    const stop = runBrowserStream(created);
    return () => {
      stop();
      setHub(null);
    };
  }, []);
  return <HubContext.Provider value={hub}>{children}</HubContext.Provider>;
}

/** The stream's state, for the status dot. */
export function useStreamState(): StreamState | "off" {
  const hub = useContext(HubContext);
  const [state, setState] = useState<StreamState | "off">("off");
  useEffect(() => (hub ? hub.onState(setState) : undefined), [hub]);
  return hub ? state : "off";
}

/** Call ``handler`` for every stream event of one of ``types``. */
export function useStreamEvents(types: readonly string[], handler: (event: StreamEvent) => void): void {
  const hub = useContext(HubContext);
  const latest = useRef(handler);
  latest.current = handler;
  const key = types.join(",");
  useEffect(() => {
    if (!hub) return;
    const wanted = new Set(key.split(","));
    return hub.subscribe((event) => {
      if (wanted.has(event.type)) latest.current(event);
    });
  }, [hub, key]);
}
