"use client";
// Equity against buy-and-hold, with the drawdown underwater in a pane below (the run's ~1,000-point chart).

import { useMemo } from "react";

import { formatPct } from "@/components/backtests/stats";
import { type Curve, LineChart } from "@/components/charts/line-chart";
import { withUnit } from "@/components/live/model";
import { Card, EmptyState } from "@/components/ui";
import { formatMoney } from "@/lib/format";
import type { Backtest } from "@/lib/types";

const EQUITY = "#2563eb";
const HOLD = "#94a3b8";
const DRAWDOWN = "#dc2626";

interface EquityChart {
  ts?: number[];
  equity?: number[];
  buy_hold?: number[];
  drawdown?: number[];
}

export function EquityCard({ run, quote }: { run: Backtest; quote: string }) {
  const chart = (run.equity_chart ?? {}) as EquityChart;
  const { curves, drawdown } = useMemo(() => {
    const t = chart.ts ?? [];
    const lines: Curve[] = [{ name: "Equity", t, values: chart.equity ?? [], color: EQUITY }];
    if (chart.buy_hold?.length) lines.push({ name: "Buy & hold", t, values: chart.buy_hold, color: HOLD });
    const under: Curve | undefined = chart.drawdown?.length ? { name: "Drawdown", t, values: chart.drawdown, color: DRAWDOWN } : undefined;
    return { curves: lines, drawdown: under };
    // The run's chart never changes once it is done.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [run.equity_chart]);

  const stats = run.stats ?? {};
  const number = (key: string) => (typeof stats[key] === "number" ? (stats[key] as number) : null);
  const lastHold = chart.buy_hold?.[chart.buy_hold.length - 1];

  return (
    <Card title="Equity against buy & hold" className="mb-6">
      {!chart.ts?.length ? (
        <EmptyState title="No equity curve stored for this run">Runs stored before curves were kept have none; run it again to see one.</EmptyState>
      ) : (
        <>
          <div data-testid="equity-chart">
            <LineChart
              curves={curves}
              drawdown={drawdown}
              height={380}
              label={`Equity of the run against buy and hold of ${run.symbol ?? "the symbol"}, with its drawdown below, from ${formatMoney(run.cash)} ${quote} of cash`}
            />
          </div>
          <ul className="mt-3 flex flex-wrap gap-x-6 gap-y-1 text-sm" aria-label="Legend of the equity chart" data-testid="equity-legend">
            <li className="flex items-center gap-2">
              <span aria-hidden className="inline-block h-0.5 w-5" style={{ backgroundColor: EQUITY, height: 3 }} />
              Equity: {withUnit(formatMoney(number("final_equity")), quote)} at the end ({formatPct(number("return_pct"))})
            </li>
            {curves.length > 1 && (
              <li className="flex items-center gap-2">
                <span aria-hidden className="inline-block h-0.5 w-5" style={{ backgroundColor: HOLD, height: 3 }} />
                Buy & hold (the cash in {run.symbol} from the first bar, costs paid): {withUnit(formatMoney(lastHold), quote)} at the end
              </li>
            )}
            {drawdown && (
              <li className="flex items-center gap-2">
                <span aria-hidden className="inline-block h-3 w-5 rounded-sm bg-rose-600/40" />
                Drawdown under the running peak, in % (max {formatPct(number("max_drawdown_pct"))})
              </li>
            )}
          </ul>
        </>
      )}
    </Card>
  );
}
