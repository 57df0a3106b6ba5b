"use client";
// The rest of a run's story: positions still open at the end, entries its sizing skipped, and the spec it ran.

import { formatPct } from "@/components/backtests/stats";
import { Badge, Card } from "@/components/ui";
import { formatMoney, formatNumber, formatPrice, formatQuantity, formatTime } from "@/lib/format";
import { useSettings } from "@/lib/settings";
import type { Backtest } from "@/lib/types";

import type { Trade } from "./breakdown";

const TH = "px-2 py-1.5 text-left text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400";
const TD = "tabular px-2 py-1.5 whitespace-nowrap";

export const SKIP_REASONS: Record<string, string> = {
  size_below_step: "Size below the quantity step",
  below_min_qty: "Below the minimum quantity",
  below_min_notional: "Below the minimum order value",
  no_equity: "No equity left",
  above_max_notional: "Above the maximum position value",
};

export function OpenTradesCard({ run, quote }: { run: Backtest; quote: string }) {
  const { zone } = useSettings();
  const open = (run.open_trades ?? []) as Trade[];
  if (!open.length) return null;
  return (
    <Card title="Open at the end" className="mb-6">
      <p className="mb-2 text-xs text-slate-600 dark:text-slate-400">Held when the candles ran out: marked at the last close, not closed, so not among the trades above.</p>
      <div className="overflow-x-auto">
        <table className="w-full border-collapse text-sm" data-testid="open-trades">
          <caption className="sr-only">Positions open at the end of the run</caption>
          <thead>
            <tr className="border-b border-slate-200 dark:border-slate-700">
              {["Side", "Size", "Entry", "Entry price", "Last close", `Unrealised PnL${quote ? ` (${quote})` : ""}`, "Return"].map((label) => (
                <th key={label} scope="col" className={TH}>
                  {label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {open.map((trade, index) => (
              <tr key={index} className="border-b border-slate-100 dark:border-slate-800">
                <td className={TD}>
                  <Badge tone={trade.side === "long" ? "green" : "red"}>{trade.side}</Badge>
                </td>
                <td className={TD}>{formatQuantity(trade.size)}</td>
                <td className={TD}>{formatTime(trade.entry_time, zone, false)}</td>
                <td className={TD}>{formatPrice(trade.entry_price)}</td>
                <td className={TD}>{formatPrice(trade.exit_price)}</td>
                <td className={TD}>{formatMoney(trade.pnl, true)}</td>
                <td className={TD}>{formatPct(trade.return_pct)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

interface Skipped {
  total?: number;
  by_reason?: Record<string, number>;
  first?: { time?: number; bar?: number; side?: string; price?: number; equity?: number; reason?: string }[];
}

export function SkippedCard({ run, quote }: { run: Backtest; quote: string }) {
  const { zone } = useSettings();
  const skipped = (run.skipped ?? {}) as Skipped;
  if (!skipped.total) return null;
  const first = skipped.first ?? [];
  return (
    <Card title={`Skipped entries (${formatNumber(skipped.total, 0)})`} className="mb-6">
      <div data-testid="skipped">
        <p className="mb-3 text-sm text-slate-600 dark:text-slate-400">
          Entry signals that placed no order: the size they came to is one the market would refuse. More cash, a larger sizing value, or a smaller
          quantity step or minimum in the spec&apos;s <code className="font-mono">sizing</code> lets them trade.
        </p>
        <ul className="mb-3 flex flex-wrap gap-x-6 gap-y-1 text-sm" aria-label="Skipped entries by reason">
          {Object.entries(skipped.by_reason ?? {}).map(([reason, count]) => (
            <li key={reason}>
              {SKIP_REASONS[reason] ?? reason.replaceAll("_", " ")}: <span className="tabular font-medium">{formatNumber(count, 0)}</span>
            </li>
          ))}
        </ul>
        {first.length > 0 && (
          <div className="overflow-x-auto">
            <table className="w-full border-collapse text-sm">
              <caption className="mb-1 text-left text-xs text-slate-500 dark:text-slate-400">The first {first.length}</caption>
              <thead>
                <tr className="border-b border-slate-200 dark:border-slate-700">
                  {["Time", "Bar", "Side", "Price", `Equity${quote ? ` (${quote})` : ""}`, "Reason"].map((label) => (
                    <th key={label} scope="col" className={TH}>
                      {label}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {first.map((entry, index) => (
                  <tr key={index} className="border-b border-slate-100 dark:border-slate-800">
                    <td className={TD}>{formatTime(entry.time, zone, false)}</td>
                    <td className={TD}>{formatNumber(entry.bar, 0)}</td>
                    <td className={TD}>{entry.side}</td>
                    <td className={TD}>{formatPrice(entry.price)}</td>
                    <td className={TD}>{formatMoney(entry.equity)}</td>
                    <td className={TD}>{SKIP_REASONS[entry.reason ?? ""] ?? entry.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </Card>
  );
}

export function SpecCard({ run }: { run: Backtest }) {
  return (
    <Card className="mb-6">
      <details data-testid="spec-snapshot">
        <summary className="cursor-pointer text-base font-semibold">
          Spec snapshot <span className="text-sm font-normal text-slate-600 dark:text-slate-400">(read-only: version {run.strategy_version ?? "?"}, with this run&apos;s params)</span>
        </summary>
        <p className="mt-2 text-xs text-slate-600 dark:text-slate-400">
          What the worker ran, stored with the run: editing the strategy since changes nothing here. Launch a new run to test the current spec.
        </p>
        <pre tabIndex={0} aria-label="The spec snapshot as JSON" className="mt-2 max-h-[32rem] overflow-auto rounded-md bg-slate-50 p-3 font-mono text-xs dark:bg-slate-950">
          {JSON.stringify(run.spec ?? {}, null, 2)}
        </pre>
      </details>
    </Card>
  );
}
