"use client";
// What the live engine did, newest first: orders, fills, rejected orders, skipped and blocked entries, position
// mismatches, foreign orders on the venue and paused entries, as the stream delivers them. A fill also pops a toast.
// The feed lives in the query cache, so it outlasts a visit to another page (not a reload: the stream resumes only
// from where this browser left it).

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { useStreamEvents } from "@/components/stream-provider";
import { useToast } from "@/components/toasts";
import { Badge, EmptyState } from "@/components/ui";
import { formatTime, type TimeZoneChoice } from "@/lib/format";

import { type BrokerEvent, type FeedItem, feedItem, type FeedKind, fillText, type FillEvent, pushFeed } from "./model";
import { liveKeys } from "./queries";

const KINDS: FeedKind[] = ["order", "fill", "rejected", "skipped", "limit", "mismatch", "foreign", "broker"];
const KIND_LABELS: Partial<Record<FeedKind, string>> = {
  rejected: "Rejected orders", skipped: "Skipped entries", limit: "Blocked entries", mismatch: "Mismatches",
  foreign: "Foreign orders", broker: "Venue",
};

/** Collect feed items from the stream and toast fills; call once, where the feed is shown. */
export function useEventFeed(nameOf: (id: string) => string): FeedItem[] {
  const client = useQueryClient();
  const toast = useToast();
  const feed = useQuery<FeedItem[]>({ queryKey: liveKeys.feed, queryFn: () => [], initialData: [], staleTime: Infinity, gcTime: Infinity });
  useStreamEvents(KINDS, (event) => {
    const item = feedItem(event.id, event.type, event.data);
    if (!item) return;
    client.setQueryData<FeedItem[]>(liveKeys.feed, (items) => pushFeed(items ?? [], item));
    if (event.type === "fill") {
      toast({ title: fillText(event.data as FillEvent), body: nameOf(item.strategyId), tone: "success" });
    } else if (event.type === "mismatch") {
      toast({ title: "Position mismatch", body: `${item.text} (${nameOf(item.strategyId)})`, tone: "error" });
    } else if (event.type === "broker" && item.tone !== "green") {
      const title = (event.data as BrokerEvent).action === "awaiting" ? "Awaiting the venue" : "Entries paused";
      toast({ title, body: `${item.text} (${nameOf(item.strategyId)})`, tone: "error" });
    }
  });
  return feed.data;
}

export function EventFeed({ items, nameOf, zone }: { items: FeedItem[]; nameOf: (id: string) => string; zone: TimeZoneChoice }) {
  const [shown, setShown] = useState<Set<FeedKind>>(new Set(KINDS));
  const visible = items.filter((item) => shown.has(item.kind));
  function toggle(kind: FeedKind) {
    setShown((current) => {
      const next = new Set(current);
      if (next.has(kind)) next.delete(kind);
      else next.add(kind);
      return next;
    });
  }
  return (
    <div className="flex flex-col gap-3">
      <fieldset className="flex flex-wrap gap-x-4 gap-y-1 text-sm">
        <legend className="sr-only">Event types shown</legend>
        {KINDS.map((kind) => (
          <label key={kind} className="flex items-center gap-1.5">
            <input type="checkbox" checked={shown.has(kind)} onChange={() => toggle(kind)} />
            {KIND_LABELS[kind] ?? `${kind[0].toUpperCase()}${kind.slice(1)}s`}
          </label>
        ))}
      </fieldset>
      {items.length === 0 ? (
        <EmptyState title="No events yet">
          Orders, fills, rejections, skipped and blocked entries, mismatches and foreign orders appear here as they happen, while this
          page is open.
        </EmptyState>
      ) : (
        <ol className="max-h-96 divide-y divide-slate-100 overflow-y-auto rounded-md border border-slate-200 dark:divide-slate-800 dark:border-slate-800" aria-label="Live events" data-testid="event-feed">
          {visible.map((item) => (
            <li key={item.id} className="flex flex-wrap items-baseline gap-x-3 gap-y-1 px-3 py-2 text-sm" data-testid="feed-item" data-kind={item.kind}>
              <time dateTime={Number.isFinite(item.time) ? new Date(item.time).toISOString() : undefined} className="tabular shrink-0 text-xs text-slate-500 dark:text-slate-400">
                {formatTime(item.time, zone)}
              </time>
              <Badge tone={item.tone}>{item.kind}</Badge>
              <span className="tabular min-w-0 flex-1">{item.text}</span>
              <span className="text-xs text-slate-500 dark:text-slate-400">{nameOf(item.strategyId)}</span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
