"use client";
// The frame around every page once logged in: navigation, the stream's status, who is logged in, outages.

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useEffect, useState, type ReactNode } from "react";

import { get, onStorageStatus } from "@/lib/api";
import { clearToken, scopeNote } from "@/lib/auth";
import type { StreamState } from "@/lib/stream";
import type { Schemas } from "@/lib/types";

import { useStreamState } from "./stream-provider";

const NAV = [
  { href: "/live", label: "Live" },
  { href: "/backtests", label: "Backtests" },
  { href: "/strategies", label: "Strategies" },
  { href: "/sweeps", label: "Sweeps" },
  { href: "/trades", label: "Trades" },
  { href: "/data", label: "Data" },
  { href: "/system", label: "System" },
];

const STREAM_LABELS: Record<StreamState | "off", [string, string]> = {
  open: ["bg-emerald-500", "Live updates on"],
  follower: ["bg-emerald-500", "Live updates on (another tab streams)"],
  connecting: ["bg-amber-400", "Connecting to live updates"],
  reconnecting: ["bg-amber-400", "Reconnecting to live updates"],
  paused: ["bg-slate-400", "Live updates paused"],
  off: ["bg-slate-400", "Live updates off"],
};

export function StreamDot() {
  const state = useStreamState();
  const [color, label] = STREAM_LABELS[state];
  return (
    <span className="flex items-center gap-2 text-xs text-slate-600 dark:text-slate-300" data-testid="stream-status" data-state={state}>
      <span aria-hidden className={`inline-block h-2.5 w-2.5 rounded-full ${color}`} />
      {label}
    </span>
  );
}

function StorageBanner() {
  const [down, setDown] = useState(false);
  useEffect(() => onStorageStatus((status) => setDown(status === 503)), []);
  if (!down) return null;
  return (
    <div role="alert" className="bg-rose-600 px-4 py-2 text-sm text-white">
      The API cannot reach its storage (Redis or MongoDB); data may be missing until it is back.{" "}
      <Link href="/system" className="underline">
        See system health
      </Link>
    </div>
  );
}

export function Shell({ children }: { children: ReactNode }) {
  const pathname = usePathname();
  const me = useQuery({ queryKey: ["me"], queryFn: () => get<Schemas["Me"]>("/me"), staleTime: 300_000 });
  function logOut() {
    clearToken();
    window.location.assign("/login");
  }
  return (
    <div className="flex min-h-screen">
      <nav aria-label="Main" className="flex w-48 shrink-0 flex-col bg-slate-900 px-3 py-4 text-slate-200">
        <Link href="/live" className="mb-6 px-2 text-lg font-semibold text-white">
          TickFlow
        </Link>
        <ul className="flex flex-col gap-1">
          {NAV.map((item) => {
            const active = pathname === item.href || pathname.startsWith(`${item.href}/`);
            return (
              <li key={item.href}>
                <Link
                  href={item.href}
                  prefetch={false} // asked for on the click: eight prefetches at load slow the page being opened
                  aria-current={active ? "page" : undefined}
                  className={`block rounded-md px-2 py-1.5 text-sm ${active ? "bg-slate-700 text-white" : "hover:bg-slate-800"}`}
                >
                  {item.label}
                </Link>
              </li>
            );
          })}
        </ul>
      </nav>
      <div className="flex min-w-0 flex-1 flex-col">
        <StorageBanner />
        <header className="flex items-center justify-end gap-4 border-b border-slate-200 bg-white px-6 py-2 dark:border-slate-800 dark:bg-slate-900">
          <StreamDot />
          <span className="text-sm text-slate-600 dark:text-slate-300" data-testid="me">
            {me.data ? `Token: ${me.data.name}${scopeNote(me.data.scopes)}` : ""}
          </span>
          <button type="button" onClick={logOut} className="text-sm text-sky-700 hover:underline dark:text-sky-400">
            Log out
          </button>
        </header>
        <main className="min-w-0 flex-1 p-6">{children}</main>
      </div>
    </div>
  );
}
