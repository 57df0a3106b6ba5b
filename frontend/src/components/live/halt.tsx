"use client";
// The kill switch (POST /live/halt, /live/resume): a button in the live overview's header and, while trading
// is halted, a banner saying so with Resume. Kept current by the stream's `halt` events.

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { ConfirmDialog } from "@/components/live/confirm-dialog";
import { useStreamEvents } from "@/components/stream-provider";
import { Button, ErrorNotice, inputClass } from "@/components/ui";
import { get, post } from "@/lib/api";
import { formatTime } from "@/lib/format";
import { useSettings } from "@/lib/settings";
import type { Schemas } from "@/lib/types";

import { liveKeys } from "./queries";

type HaltState = Schemas["HaltState"];
const haltKey = [...liveKeys.all, "halt"] as const;
const MAX_REASON = 200;

export function useHalt() {
  const client = useQueryClient();
  useStreamEvents(["halt"], () => void client.invalidateQueries({ queryKey: haltKey }));
  return useQuery({ queryKey: haltKey, queryFn: () => get<HaltState>("/live/halt") });
}

function useSwitch<T>(path: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: T) => post<HaltState>(path, body),
    onSuccess: (state) => client.setQueryData(haltKey, state),
  });
}

/** "Halt trading", with a confirmation that can also flatten every position. */
export function HaltButton({ state }: { state: HaltState | undefined }) {
  const [open, setOpen] = useState(false);
  const [flatten, setFlatten] = useState(false);
  const [reason, setReason] = useState("");
  const halt = useSwitch<{ flatten: boolean; reason: string }>("/live/halt");
  if (state?.halted) return null;
  return (
    <>
      <Button variant="danger" onClick={() => setOpen(true)}>
        Halt trading
      </Button>
      <ConfirmDialog
        open={open}
        title="Halt all trading?"
        confirmLabel={flatten ? "Halt and close positions" : "Halt"}
        busy={halt.isPending}
        onConfirm={() => halt.mutate({ flatten, reason }, { onSuccess: () => setOpen(false) })}
        onCancel={() => setOpen(false)}
      >
        <p>No strategy takes a new entry until you resume. Stops, targets and trailing stops keep working.</p>
        <label className="mt-3 flex items-center gap-2">
          <input type="checkbox" checked={flatten} onChange={(event) => setFlatten(event.target.checked)} />
          Also close every position at its next tick
        </label>
        <label className="mt-3 flex flex-col gap-1 text-sm">
          Reason (optional)
          <input className={inputClass} value={reason} maxLength={MAX_REASON} onChange={(event) => setReason(event.target.value)} />
        </label>
        {halt.error ? <div className="mt-3"><ErrorNotice error={halt.error} /></div> : null}
      </ConfirmDialog>
    </>
  );
}

/** While halted: since when, by whom, why; Resume (and Close all positions, if not flattening yet). */
export function HaltBanner({ state }: { state: HaltState | undefined }) {
  const { zone } = useSettings();
  const resume = useSwitch<Record<string, never>>("/live/resume");
  const flatten = useSwitch<{ flatten: boolean }>("/live/halt");
  if (!state?.halted) return null;
  const error = resume.error ?? flatten.error;
  return (
    <div role="status" data-testid="halt-banner" className="flex flex-col gap-2 rounded-lg border border-rose-300 bg-rose-50 p-4 text-rose-900 dark:border-rose-800 dark:bg-rose-950 dark:text-rose-100">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div>
          <p className="font-semibold">Trading halted{state.flatten ? ": closing every position" : ""}</p>
          <p className="text-sm">
            Since {formatTime(state.since, zone)} by {state.by}
            {state.reason ? `: ${state.reason}` : ""}. No new entries; stops and targets still work.
          </p>
        </div>
        <div className="flex gap-2">
          {state.flatten ? null : (
            <Button variant="danger" disabled={flatten.isPending} onClick={() => flatten.mutate({ flatten: true })}>
              Close all positions
            </Button>
          )}
          <Button variant="primary" disabled={resume.isPending} onClick={() => resume.mutate({})}>
            {resume.isPending ? "Resuming…" : "Resume trading"}
          </Button>
        </div>
      </div>
      {error ? <ErrorNotice error={error} /> : null}
    </div>
  );
}
