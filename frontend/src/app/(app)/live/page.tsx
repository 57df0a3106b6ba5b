"use client";
// The live overview: start strategies on paper or live on the venue, a card per active strategy, every account's position
// priced as candles close, and the engine's events (fills toast) -- all kept current by the stream.

import { useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";

import { rememberStopped, useStopped } from "@/components/live/actions";
import { ConfirmDialog } from "@/components/live/confirm-dialog";
import { EventFeed, useEventFeed } from "@/components/live/event-feed";
import { HaltBanner, HaltButton, useHalt } from "@/components/live/halt";
import { latestSignals, strategyTotals } from "@/components/live/model";
import { FlatToggle, PositionsTable } from "@/components/live/positions-table";
import { liveKeys, refreshLive, useActive, useLiveUpdates, usePositions, useSignals, useStrategies, useStrategyNames } from "@/components/live/queries";
import { StartForm } from "@/components/live/start-form";
import { StoppedCard, StrategyCard } from "@/components/live/strategy-card";
import { useNow } from "@/components/live/use-now";
import { useToast } from "@/components/toasts";
import { Button, Card, EmptyState, ErrorNotice, Loaded, PageHeader, Skeleton } from "@/components/ui";
import { ApiError, post } from "@/lib/api";
import { useSettings } from "@/lib/settings";
import type { ActiveStrategy } from "@/lib/types";

function StopAll({ active, nameOf }: { active: ActiveStrategy[]; nameOf: (id: string) => string }) {
  const client = useQueryClient();
  const toast = useToast();
  const [open, setOpen] = useState(false);
  const [closePositions, setClosePositions] = useState(false);
  const [busy, setBusy] = useState(false);

  async function stopAll() {
    setBusy(true);
    const results = await Promise.allSettled(
      active.map((entry) => post(`/strategies/${encodeURIComponent(entry.strategy_id)}/stop`, { close_positions: closePositions })),
    );
    const stopped = active.filter((_, i) => results[i].status === "fulfilled");
    rememberStopped(client, stopped.map((entry) => ({ strategyId: entry.strategy_id, cash: entry.cash, stoppedAt: Date.now() })));
    await refreshLive(client);
    const failed = active.length - stopped.length;
    // The API's reason when it gave one (a read-only token's 403 says which scope is needed), else "try again".
    const refusal = results.find((result): result is PromiseRejectedResult => result.status === "rejected")?.reason;
    const why = refusal instanceof ApiError && refusal.status < 500 ? `: ${refusal.message}` : "; try again.";
    toast(
      failed
        ? { title: `Stopped ${stopped.length} of ${active.length} strategies`, body: `${failed} could not be stopped${why}`, tone: "error" }
        : { title: `Stopped ${stopped.length} ${stopped.length === 1 ? "strategy" : "strategies"}`, body: closePositions ? "Their positions were closed." : "None held a position.", tone: "info" },
    );
    setBusy(false);
    setOpen(false);
  }

  return (
    <>
      <Button variant="danger" onClick={() => setOpen(true)} disabled={active.length === 0}>
        Stop all
      </Button>
      <ConfirmDialog
        open={open}
        title={`Stop all ${active.length} active ${active.length === 1 ? "strategy" : "strategies"}?`}
        confirmLabel="Stop all"
        busy={busy}
        onConfirm={() => void stopAll()}
        onCancel={() => setOpen(false)}
      >
        <p>They stop trading at once: {active.map((entry) => nameOf(entry.strategy_id)).join(", ")}.</p>
        <label className="mt-3 flex items-center gap-2">
          <input type="checkbox" checked={closePositions} onChange={(event) => setClosePositions(event.target.checked)} />
          Close their positions at the last price
        </label>
        <p className="mt-2 text-xs text-slate-500 dark:text-slate-400">Without it, strategies holding positions keep trading: a stopped strategy would leave them unmanaged. To block new entries and keep positions under their stops, halt trading instead.</p>
      </ConfirmDialog>
    </>
  );
}

export default function LivePage() {
  const { zone } = useSettings();
  const client = useQueryClient();
  const strategies = useStrategies();
  const active = useActive();
  const positions = usePositions();
  const signals = useSignals();
  const stopped = useStopped();
  const nameOf = useStrategyNames();
  const now = useNow(30_000);
  useLiveUpdates();
  const feed = useEventFeed(nameOf);
  const halt = useHalt();
  const [showFlat, setShowFlat] = useState(false);

  const activeList = useMemo(
    () => [...(active.data ?? [])].sort((a, b) => nameOf(a.strategy_id).localeCompare(nameOf(b.strategy_id))),
    [active.data, nameOf],
  );
  const activeIds = new Set(activeList.map((entry) => entry.strategy_id));
  const totals = strategyTotals(positions.data ?? []);
  const lastSignals = latestSignals(signals.data ?? []);
  const stoppedHere = stopped.data.filter((item) => !activeIds.has(item.strategyId));

  return (
    <>
      <PageHeader
        title="Live trading"
        subtitle="Paper and live trading on the live feed. Prices, positions and events update as they happen."
        actions={
          <div className="flex gap-2">
            <HaltButton state={halt.data} />
            <StopAll active={activeList} nameOf={nameOf} />
          </div>
        }
      />
      <div className="flex flex-col gap-6">
        <HaltBanner state={halt.data} />
        <Card title="Start a strategy">
          <Loaded query={strategies} skeleton={<Skeleton className="h-16" />}>
            {(list) => <StartForm strategies={list} activeIds={activeIds} />}
          </Loaded>
        </Card>

        <section aria-labelledby="active-heading" className="flex flex-col gap-3">
          <h2 id="active-heading" className="text-lg font-semibold">
            Active strategies {active.data ? <span className="text-sm font-normal text-slate-500 dark:text-slate-400">({activeList.length})</span> : null}
          </h2>
          <Loaded
            query={active}
            skeleton={
              <div className="grid gap-4 lg:grid-cols-2">
                <Skeleton className="h-48" />
                <Skeleton className="h-48" />
              </div>
            }
            empty={(list) =>
              list.length === 0 && stoppedHere.length === 0 ? (
                <EmptyState title="Nothing is trading">Pick a strategy in “Start a strategy” above, set its cash and start it on paper (or live, on the venue).</EmptyState>
              ) : null
            }
          >
            {() => (
              <div className="grid gap-4 lg:grid-cols-2">
                {activeList.map((entry) => (
                  <StrategyCard
                    key={entry.strategy_id}
                    entry={entry}
                    name={nameOf(entry.strategy_id)}
                    totals={totals.get(entry.strategy_id)}
                    signal={lastSignals.get(entry.strategy_id)}
                    zone={zone}
                    now={now}
                  />
                ))}
                {stoppedHere.map((item) => (
                  <StoppedCard
                    key={item.strategyId}
                    item={item}
                    name={nameOf(item.strategyId)}
                    zone={zone}
                    onDismiss={() => client.setQueryData(liveKeys.stopped, stopped.data.filter((known) => known.strategyId !== item.strategyId))}
                  />
                ))}
              </div>
            )}
          </Loaded>
        </section>

        <Card title="Positions" actions={positions.data?.length ? <FlatToggle accounts={positions.data} showFlat={showFlat} onChange={setShowFlat} /> : null}>
          <Loaded query={positions} skeleton={<Skeleton className="h-32" />}>
            {(accounts) => <PositionsTable accounts={accounts} nameOf={nameOf} zone={zone} showFlat={showFlat} />}
          </Loaded>
          {signals.error ? (
            <div className="mt-3">
              <ErrorNotice error={signals.error} />
            </div>
          ) : null}
        </Card>

        <Card title="Events">
          <EventFeed items={feed} nameOf={nameOf} zone={zone} />
        </Card>
      </div>
    </>
  );
}
