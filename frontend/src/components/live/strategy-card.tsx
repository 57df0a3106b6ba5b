"use client";
// A card per strategy on the live overview: what it trades and how it is doing, with stop (and start again
// once stopped from here).

import Link from "next/link";
import { useId, useState, type ReactNode } from "react";

import { Badge, Button, ErrorNotice, inputClass, toneOf } from "@/components/ui";
import { formatDuration, formatMoney, formatPercent, formatTime, type TimeZoneChoice } from "@/lib/format";
import type { ActiveStrategy } from "@/lib/types";

import { useStart, useStop, type StoppedStrategy } from "./actions";
import { type LatestSignal, quoteCurrency, type StrategyTotals, withUnit } from "./model";

const TONES = { gain: "text-emerald-700 dark:text-emerald-400", loss: "text-rose-700 dark:text-rose-400" };

function Item({ label, children, tone, testId }: { label: string; children: ReactNode; tone?: "gain" | "loss"; testId?: string }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs text-slate-500 dark:text-slate-400">{label}</dt>
      <dd className={`tabular text-sm font-medium break-words ${tone ? TONES[tone] : ""}`} data-testid={testId}>
        {children}
      </dd>
    </div>
  );
}

function signalText(signal: LatestSignal | undefined, zone: TimeZoneChoice): ReactNode {
  if (!signal) return <span className="text-slate-500 dark:text-slate-400">none yet</span>;
  const order = signal.order === "none" ? "no change" : signal.order;
  return (
    <>
      {order} · {signal.symbol}
      <span className="block text-xs font-normal text-slate-500 dark:text-slate-400">at the close of {formatTime(signal.t, zone, false)}</span>
    </>
  );
}

export function StrategyCard({ entry, name, totals, signal, zone, now }: {
  entry: ActiveStrategy;
  name: string;
  totals: StrategyTotals | undefined;
  signal: LatestSignal | undefined;
  zone: TimeZoneChoice;
  now: number;
}) {
  const id = useId();
  const [closePositions, setClosePositions] = useState(false);
  const stop = useStop();
  const unit = quoteCurrency(entry.symbols);
  const count = entry.symbols.length;
  const totalCash = entry.cash * count;
  const pnl = totals?.pnl ?? null;
  return (
    <article
      aria-labelledby={`${id}-name`}
      data-testid="strategy-card"
      data-strategy-id={entry.strategy_id}
      className="@container flex flex-col gap-3 rounded-lg border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900"
    >
      <header className="flex items-start justify-between gap-3">
        <div className="min-w-0 flex-1">
          <h3 id={`${id}-name`} className="text-base font-semibold break-words">
            {name}
          </h3>
          <div className="mt-1 flex flex-wrap gap-1">
            <Badge tone="green">Trading</Badge>
            <Badge tone="sky">{entry.mode}</Badge>
          </div>
        </div>
        {/* Not prefetched: the chart page loads candles and indicators, worth it only when opened. */}
        <Link href={`/live/${entry.strategy_id}`} prefetch={false} className="shrink-0 text-sm text-sky-700 hover:underline dark:text-sky-400">
          Chart<span className="sr-only"> of {name}</span> →
        </Link>
      </header>
      <dl className="grid grid-cols-2 gap-x-4 gap-y-3 @xl:grid-cols-3">
        <Item label="Symbols">{entry.symbols.join(", ")}</Item>
        <Item label="Timeframe">{entry.timeframe}</Item>
        <Item label={count > 1 ? `Cash (${count} × ${formatMoney(entry.cash)})` : "Cash"}>{withUnit(formatMoney(totalCash), unit)}</Item>
        <Item label="Equity" testId="card-equity">{withUnit(formatMoney(totals?.equity), unit)}</Item>
        <Item label="PnL" tone={toneOf(pnl)} testId="card-pnl">
          {withUnit(formatMoney(pnl, true), unit)}
          {pnl !== null && totalCash > 0 ? ` (${formatPercent(pnl / totalCash, true)})` : ""}
        </Item>
        <Item label="Open positions">{totals ? `${totals.positions} of ${count}` : "—"}</Item>
        <Item label="Last signal">{signalText(signal, zone)}</Item>
        <Item label="Since">
          {entry.since ? (
            <>
              {formatTime(entry.since, zone, false)}
              <span className="block text-xs font-normal text-slate-500 dark:text-slate-400">{formatDuration(Math.max(0, now - entry.since))} ago</span>
            </>
          ) : (
            "unknown"
          )}
        </Item>
      </dl>
      <footer className="flex flex-wrap items-center justify-end gap-3 border-t border-slate-100 pt-3 dark:border-slate-800">
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" checked={closePositions} onChange={(event) => setClosePositions(event.target.checked)} />
          Close positions
        </label>
        <Button
          variant="danger"
          aria-label={`Stop ${name}`}
          disabled={stop.isPending}
          onClick={() => stop.mutate({ strategyId: entry.strategy_id, closePositions, cash: entry.cash })}
        >
          {stop.isPending ? "Stopping…" : "Stop"}
        </Button>
      </footer>
      {stop.error ? <ErrorNotice error={stop.error} /> : null}
    </article>
  );
}

/** A strategy stopped from this tab: start it again with the same (or other) cash, or put the card away. */
export function StoppedCard({ item, name, zone, onDismiss }: {
  item: StoppedStrategy;
  name: string;
  zone: TimeZoneChoice;
  onDismiss: () => void;
}) {
  const id = useId();
  const [cash, setCash] = useState(String(item.cash));
  const [invalid, setInvalid] = useState<string | null>(null);
  const start = useStart();
  function startAgain() {
    const value = Number(cash);
    if (cash.trim() === "" || !Number.isFinite(value) || value <= 0) {
      setInvalid("Cash must be more than 0.");
      return;
    }
    setInvalid(null);
    start.mutate({ strategyId: item.strategyId, cash: value });
  }
  return (
    <article
      aria-labelledby={`${id}-name`}
      data-testid="stopped-card"
      className="flex flex-col gap-3 rounded-lg border border-dashed border-slate-300 bg-white/60 p-4 dark:border-slate-700 dark:bg-slate-900/60"
    >
      <header className="flex items-start justify-between gap-3">
        <div className="min-w-0 flex-1">
          <h3 id={`${id}-name`} className="text-base font-semibold break-words">
            {name}
          </h3>
          <p className="mt-1 text-xs text-slate-500 dark:text-slate-400">
            <Badge>Stopped</Badge> at {formatTime(item.stoppedAt, zone)}
          </p>
        </div>
        <button type="button" onClick={onDismiss} className="shrink-0 text-sm text-slate-500 hover:underline dark:text-slate-400" aria-label={`Dismiss ${name}`}>
          Dismiss
        </button>
      </header>
      <div className="flex flex-wrap items-end gap-3">
        <div className="flex flex-col gap-1">
          <label htmlFor={`${id}-cash`} className="text-sm font-medium">
            Cash per symbol
          </label>
          <input
            id={`${id}-cash`}
            type="number"
            min={0}
            step="any"
            value={cash}
            onChange={(event) => setCash(event.target.value)}
            aria-invalid={invalid ? true : undefined}
            aria-describedby={invalid ? `${id}-cash-error` : undefined}
            className={`${inputClass} tabular w-36`}
          />
        </div>
        <Button variant="primary" onClick={startAgain} disabled={start.isPending} aria-label={`Start ${name} again`}>
          {start.isPending ? "Starting…" : "Start again"}
        </Button>
      </div>
      {invalid && (
        <p id={`${id}-cash-error`} role="alert" className="text-xs text-rose-600 dark:text-rose-400">
          {invalid}
        </p>
      )}
      {start.error ? <ErrorNotice error={start.error} /> : null}
    </article>
  );
}
