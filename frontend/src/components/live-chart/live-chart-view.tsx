"use client";
// A live strategy's page: its candles (stored history, live tail, forming candle) with its indicators, markers for
// fills and trades and price lines at the open position's entry, stop and target; its trades beside; its live equity
// below; its venue orders when it trades live. All of it kept current by the stream: no reload, no poll (but for the
// venue orders of a live run, read every few seconds too: a rejection reaches them without a fill).

import { useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useParams, usePathname, useRouter, useSearchParams } from "next/navigation";
import { useId, useMemo, useRef, useState } from "react";

import { specTarget } from "@/components/backtests/queries";
import type { CandleChartHandle } from "@/components/charts/candle-chart";
import { useStart, useStop } from "@/components/live/actions";
import { fillText, quoteCurrency, withUnit } from "@/components/live/model";
import { useActive, useLiveUpdates, usePositions } from "@/components/live/queries";
import { useStreamEvents } from "@/components/stream-provider";
import { useToast } from "@/components/toasts";
import { Badge, Button, Card, EmptyState, ErrorNotice, inputClass, PageHeader, Skeleton, toneOf } from "@/components/ui";
import { ApiError } from "@/lib/api";
import { formatMoney, formatPrice, formatTime } from "@/lib/format";
import { useSettings } from "@/lib/settings";
import type { ActiveStrategy } from "@/lib/types";

import { EquityCard } from "./equity-card";
import { LiveCandles } from "./live-candles";
import { type ChartWindow, isCandleEvent, isFillEvent, openAccount, openTrade, positionText, priceLines } from "./model";
import { liveChartKeys, useChart, useEquityHistory, useOpenTrades, useStrategy, useTrades, useVenueOrders } from "./queries";
import { TradesPanel } from "./trades-panel";
import { useCoalesced } from "./use-coalesced";
import { VenueOrdersCard } from "./venue-orders";

function TradingControls({ strategyId, name, entry, onChanged }: {
  strategyId: string;
  name: string;
  entry: ActiveStrategy | undefined;
  /** After a start or a stop (a stop may close positions). */
  onChanged: () => void;
}) {
  const id = useId();
  const start = useStart();
  const stop = useStop();
  const [cash, setCash] = useState("10000");
  const [closePositions, setClosePositions] = useState(false);
  const [invalid, setInvalid] = useState<string | null>(null);
  if (entry) {
    return (
      <div className="flex flex-col items-end gap-1">
        <div className="flex flex-wrap items-center gap-3">
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" checked={closePositions} onChange={(event) => setClosePositions(event.target.checked)} />
            Close positions
          </label>
          <Button
            variant="danger"
            aria-label={`Stop ${name}`}
            disabled={stop.isPending}
            onClick={() => stop.mutate({ strategyId, closePositions, cash: entry.cash }, { onSuccess: onChanged })}
          >
            {stop.isPending ? "Stopping…" : "Stop"}
          </Button>
        </div>
        {stop.error ? <ErrorNotice error={stop.error} /> : null}
      </div>
    );
  }
  function startIt() {
    const value = Number(cash);
    if (cash.trim() === "" || !Number.isFinite(value) || value <= 0) {
      setInvalid("Cash must be more than 0.");
      return;
    }
    setInvalid(null);
    start.mutate({ strategyId, cash: value }, { onSuccess: onChanged });
  }
  return (
    <div className="flex flex-col items-end gap-1">
      <div className="flex flex-wrap items-end gap-2">
        <div className="flex flex-col gap-1">
          <label htmlFor={`${id}-cash`} className="text-xs font-medium text-slate-600 dark:text-slate-400">
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
            className={`${inputClass} tabular w-32`}
          />
        </div>
        <Button variant="primary" onClick={startIt} disabled={start.isPending} aria-label={`Start ${name} on paper`}>
          {start.isPending ? "Starting…" : "Start paper trading"}
        </Button>
      </div>
      {invalid && (
        <p id={`${id}-cash-error`} role="alert" className="text-xs text-rose-600 dark:text-rose-400">
          {invalid}
        </p>
      )}
      {start.error ? <ErrorNotice error={start.error} /> : null}
    </div>
  );
}

function ChartError({ error, symbol, timeframe }: { error: unknown; symbol: string; timeframe: string }) {
  if (error instanceof ApiError && error.status === 422) {
    return (
      <EmptyState title={`No ${symbol} ${timeframe} candles yet`}>
        Nothing is stored or live for this symbol. Import history on the{" "}
        <Link href="/data" className="text-sky-700 underline dark:text-sky-400">
          Data
        </Link>{" "}
        page, or start the strategy and wait for the feed&apos;s first close.
      </EmptyState>
    );
  }
  return <ErrorNotice error={error} />;
}

export function LiveChartView() {
  const params = useParams<{ strategy: string }>();
  const strategyId = decodeURIComponent(params.strategy);
  const search = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const { zone } = useSettings();
  const client = useQueryClient();
  const toast = useToast();
  const chartHandle = useRef<CandleChartHandle | null>(null);
  const [window, setWindow] = useState<ChartWindow>("recent");
  const [refresh, setRefresh] = useState(0);

  const strategy = useStrategy(strategyId);
  const target = useMemo(() => specTarget(strategy.data), [strategy.data]);
  const symbol = (search.get("symbol") ?? "").toUpperCase() || target.symbols[0] || "";
  const active = useActive();
  const positions = usePositions();
  const entry = active.data?.find((item) => item.strategy_id === strategyId);
  const chart = useChart(strategyId, symbol, window, Boolean(strategy.data && symbol));
  const trades = useTrades(strategyId, symbol);
  const openTrades = useOpenTrades(strategyId);
  const equity = useEquityHistory(strategyId);
  const tradesLive = entry?.mode === "live";
  const orders = useVenueOrders(strategyId, tradesLive);
  useLiveUpdates();

  const account = openAccount(positions.data, strategyId, symbol);
  const anyAccount = positions.data?.find((item) => item.strategy_id === strategyId && item.symbol === symbol) ?? null;
  const trade = openTrade(openTrades.data?.items, symbol);
  const lines = useMemo(() => priceLines(account, account ? trade : null), [account, trade]);
  const unit = quoteCurrency([symbol]);
  const name = strategy.data?.name ?? strategyId;

  // Trade records reach the journal just after their fill: read twice, at once and a little later.
  const refreshTrades = useCoalesced(async () => {
    await Promise.all([
      client.invalidateQueries({ queryKey: liveChartKeys.trades(strategyId, symbol) }),
      client.invalidateQueries({ queryKey: liveChartKeys.openTrades(strategyId) }),
    ]);
  }, 300);
  const refreshTradesLater = useCoalesced(refreshTrades, 1500);
  // An equity point is recorded just after each close it traded.
  const refreshEquity = useCoalesced(() => client.invalidateQueries({ queryKey: liveChartKeys.equity(strategyId) }), 1000);
  // A stop closing positions moves them without a fill event: read the trades, the equity and the chart's tail again.
  const refreshChartLater = useCoalesced(() => setRefresh((count) => count + 1), 1500);
  // The ledger records an order as the venue answers it: read at once and a little later too.
  const refreshOrders = useCoalesced(() => client.invalidateQueries({ queryKey: liveChartKeys.orders(strategyId) }), 300);
  const refreshOrdersLater = useCoalesced(refreshOrders, 1500);
  function changed() {
    refreshOrders();
    refreshOrdersLater();
    refreshTrades();
    refreshTradesLater();
    refreshEquity();
    setRefresh((count) => count + 1);
    refreshChartLater();
  }

  useStreamEvents(["fill", "candle", "order", "rejected"], (event) => {
    if (event.type === "order" || event.type === "rejected") {
      if ((event.data as { strategy_id?: unknown } | null)?.strategy_id !== strategyId || !tradesLive) return;
      refreshOrders();
      refreshOrdersLater();
    } else if (event.type === "fill") {
      if (!isFillEvent(event.data) || event.data.strategy_id !== strategyId) return;
      toast({ title: fillText(event.data), body: name, tone: "success" });
      if (tradesLive) {
        refreshOrders();
        refreshOrdersLater();
      }
      refreshTrades();
      refreshTradesLater();
      refreshEquity();
    } else if (isCandleEvent(event.data) && event.data.timeframe === target.timeframe && entry?.symbols.includes(event.data.symbol)) {
      refreshEquity();
    }
  });

  function setSymbol(next: string) {
    const query = new URLSearchParams(search.toString());
    query.set("symbol", next);
    router.replace(`${pathname}?${query.toString()}`, { scroll: false });
  }

  if (strategy.isPending) {
    return (
      <div className="flex flex-col gap-4" data-testid="live-chart-loading">
        <Skeleton className="h-10 w-80" />
        <Skeleton className="h-20" />
        <Skeleton className="h-[28rem]" />
      </div>
    );
  }
  if (strategy.error) {
    return (
      <>
        <PageHeader title="Live chart" />
        {strategy.error instanceof ApiError && strategy.error.status === 404 ? (
          <EmptyState title="No strategy has this id">
            Pick one on the{" "}
            <Link href="/live" className="text-sky-700 underline dark:text-sky-400">
              Live
            </Link>{" "}
            page.
          </EmptyState>
        ) : (
          <ErrorNotice error={strategy.error} />
        )}
      </>
    );
  }

  const symbols = target.symbols.includes(symbol) || !symbol ? target.symbols : [...target.symbols, symbol];
  const stop = account && typeof trade?.stop === "number" ? trade.stop : null;
  const targetPrice = account && typeof trade?.target === "number" ? trade.target : null;

  return (
    <>
      <PageHeader
        title={
          <span className="flex flex-wrap items-center gap-2">
            {name}
            {entry ? <Badge tone="green">Trading · {entry.mode}</Badge> : <Badge>Not trading</Badge>}
          </span>
        }
        subtitle={
          <>
            {symbol} · {target.timeframe} candles
            {entry?.since ? ` · this run since ${formatTime(entry.since, zone, false)}` : ""} ·{" "}
            <Link href="/live" className="text-sky-700 underline dark:text-sky-400">
              All live strategies
            </Link>
          </>
        }
        actions={<TradingControls strategyId={strategyId} name={name} entry={entry} onChanged={changed} />}
      />
      <div className="flex flex-col gap-6">
        <Card>
          <div>
            <dl className="grid grid-cols-3 gap-x-6 gap-y-3 lg:grid-cols-6">
              {[
                { label: "Position", value: <span data-testid="position">{positions.isPending ? "…" : positionText(account)}</span> },
                { label: "Stop", value: <span data-testid="stop-price">{formatPrice(stop)}</span> },
                { label: "Target", value: <span data-testid="target-price">{formatPrice(targetPrice)}</span> },
                { label: "Last price", value: <span data-testid="last-price">{formatPrice(anyAccount?.price)}</span> },
                {
                  label: "Unrealised PnL",
                  value: anyAccount ? withUnit(formatMoney(anyAccount.unrealised_pnl, true), unit) : "—",
                  tone: toneOf(anyAccount?.unrealised_pnl),
                },
                { label: `Equity on ${symbol || "the symbol"}`, value: anyAccount ? withUnit(formatMoney(anyAccount.equity), unit) : "—" },
              ].map((item) => (
                <div key={item.label} className="min-w-0">
                  <dt className="text-xs text-slate-500 dark:text-slate-400">{item.label}</dt>
                  <dd className={`tabular text-sm font-medium ${item.tone === "gain" ? "text-emerald-700 dark:text-emerald-400" : item.tone === "loss" ? "text-rose-700 dark:text-rose-400" : ""}`}>
                    {item.value}
                  </dd>
                </div>
              ))}
            </dl>
          </div>
        </Card>

        <div className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_20rem]">
          <Card
            title={`${symbol} ${target.timeframe}`}
            className="min-w-0"
            actions={
              <div className="flex flex-wrap items-center justify-end gap-3 text-sm">
                <label className="flex items-center gap-2">
                  <span className="text-slate-600 dark:text-slate-400">Symbol</span>
                  <select id="chart-symbol" className={`${inputClass} w-32`} value={symbol} onChange={(event) => setSymbol(event.target.value)}>
                    {symbols.map((item) => (
                      <option key={item} value={item}>
                        {item}
                      </option>
                    ))}
                  </select>
                </label>
                <label className="flex items-center gap-2">
                  <span className="text-slate-600 dark:text-slate-400">Candles</span>
                  <select id="chart-window" className={`${inputClass} w-44`} value={window} onChange={(event) => setWindow(event.target.value as ChartWindow)}>
                    <option value="recent">Recent, bar by bar</option>
                    <option value="all">All history (merged)</option>
                  </select>
                </label>
              </div>
            }
          >
            {chart.isPending ? (
              <Skeleton className="h-[460px]" />
            ) : chart.error ? (
              <ChartError error={chart.error} symbol={symbol} timeframe={target.timeframe} />
            ) : chart.data ? (
              <LiveCandles
                key={`${symbol}:${window}:${chart.dataUpdatedAt}`}
                strategyId={strategyId}
                symbol={symbol}
                window={window}
                base={chart.data}
                priceLines={lines}
                label={`${name}: ${symbol} ${target.timeframe} candles with its indicators, fills and trades`}
                handleRef={chartHandle}
                refresh={refresh}
              />
            ) : null}
          </Card>
          <Card title="Trades">
            <TradesPanel query={trades} strategyId={strategyId} symbol={symbol} zone={zone} onShow={(ms) => chartHandle.current?.focus(ms)} />
          </Card>
        </div>

        <VenueOrdersCard query={orders} live={tradesLive || (strategy.data?.live as { mode?: string } | null)?.mode === "live"} zone={zone} />

        <EquityCard query={equity} unit={unit} timeframe={target.timeframe} zone={zone} />
      </div>
    </>
  );
}
