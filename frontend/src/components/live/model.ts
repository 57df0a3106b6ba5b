// The live overview's data: the stream's event shapes, accounts re-priced from candle closes, per-strategy
// totals, the event feed's lines and the fill toast's text. Pure functions, unit-tested beside.

import { formatMoney, formatPrice, formatQuantity } from "@/lib/format";
import type { Account } from "@/lib/types";

export interface CandleEvent {
  symbol: string;
  timeframe: string;
  t: number;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
}

export interface SignalEvent {
  strategy_id: string;
  symbol: string;
  timeframe: string;
  t: number;
  order?: unknown;
  pending?: boolean;
}

export interface OrderEvent {
  client_order_id: string;
  strategy_id: string;
  symbol: string;
  side: "buy" | "sell";
  size: number;
  price: number;
  commission: number;
  ts: number;
  reason: string;
}

export type FillEvent = Omit<OrderEvent, "reason">;

export interface SkippedEvent {
  strategy_id: string;
  symbol: string;
  timeframe: string;
  time: number;
  bar: number;
  side: string;
  price: number;
  equity: number;
  reason: string;
}

/** An entry the halt or a risk limit blocked, or a loss limit that stops the strategy (`action` stop). */
export interface LimitEvent {
  strategy_id: string;
  symbol: string;
  timeframe: string;
  t: number;
  limit: string;
  order?: string;
  action: "cancelled" | "flat" | "stop";
  /** Risk limits: what was measured (the loss as a fraction, for a stop) and the limit in force. */
  value?: number;
  threshold?: number;
}

export interface MismatchEvent {
  strategy_id: string;
  symbol: string;
  mode: string;
  engine_size: number;
  broker_size: number;
  since: number;
  confirmed: boolean;
  /** For a venue: a close that left part held, or what the reconciliation found. */
  reason?: string;
}

/** A live order that executed nothing: refused by the venue (with its code), by its filters, or expired empty. */
export interface RejectedEvent {
  client_order_id: string;
  strategy_id: string;
  symbol: string;
  side: "buy" | "sell";
  size: number;
  kind: string;
  code: number | null;
  reason: string;
}

/** An order on the venue account that TickFlow did not place (reported once, never traded). */
export interface ForeignEvent {
  venue_order_id: string;
  client_order_id: string;
  symbol: string;
  side: string;
  status: string;
  executed: number;
  time: number;
}

/** A live strategy's entries paused after repeated balance rejections, until it starts again. */
/** What the engine says of a live strategy's dealings with its venue: ``paused`` (its entries, after repeated
 * balance rejections), ``awaiting`` (a close's orders await the venue's answer; later closes pass the position
 * by) or ``resumed`` (the venue answered; the position trades again). */
export type BrokerEvent =
  | { action: "paused"; strategy_id: string; rejections: number; code: number; reason: string; since: number }
  | { action: "awaiting"; strategy_id: string; symbol: string; client_order_id: string; reason: string; since: number }
  | { action: "resumed"; strategy_id: string; symbol: string; passed: number; since: number };

/** The feed's sentence for a ``broker`` event. */
export function brokerText(broker: BrokerEvent): string {
  switch (broker.action) {
    case "awaiting":
      return `Order ${broker.client_order_id} on ${broker.symbol} awaits the venue's answer (${broker.reason}); later closes pass this position by until it comes`;
    case "resumed":
      return `${broker.symbol} trades again: the venue answered; ${broker.passed} close${broker.passed === 1 ? "" : "s"} passed it by`;
    default:
      return `Entries paused after ${broker.rejections} orders refused for lack of balance (${broker.code}: ${broker.reason}); start the strategy again to resume`;
  }
}

/** "Filled: buy 0.01 BTCUSDT @ 60,123.45" */
export function fillText(fill: Pick<FillEvent, "side" | "size" | "symbol" | "price">): string {
  return `Filled: ${fill.side} ${formatQuantity(fill.size)} ${fill.symbol} @ ${formatPrice(fill.price)}`;
}

/**
 * The accounts with ``symbol`` marked at ``price`` (a candle's close): unrealised PnL and equity recomputed
 * as the API computes them (balance + signed size × (price − entry)). Returns the same array when no
 * account trades ``symbol``, so a query cache update with it changes nothing.
 */
export function applyPrice(accounts: Account[], symbol: string, price: number): Account[] {
  if (!Number.isFinite(price) || !accounts.some((account) => account.symbol === symbol)) return accounts;
  return accounts.map((account) => {
    if (account.symbol !== symbol) return account;
    const sign = account.side === "long" ? 1 : account.side === "short" ? -1 : 0;
    const unrealised = sign && account.entry_price !== null ? sign * account.size * (price - account.entry_price) : 0;
    return { ...account, price, unrealised_pnl: unrealised, equity: account.balance + unrealised };
  });
}

export interface StrategyTotals {
  cash: number;
  balance: number;
  unrealised: number;
  equity: number;
  /** equity − cash: what the run made or lost so far, open positions marked at the last price. */
  pnl: number;
  positions: number;
}

/** A strategy's accounts summed (what ``GET /live/equity`` answers, computed from the re-priced rows). */
export function strategyTotals(accounts: Account[]): Map<string, StrategyTotals> {
  const totals = new Map<string, StrategyTotals>();
  for (const account of accounts) {
    const total = totals.get(account.strategy_id) ?? { cash: 0, balance: 0, unrealised: 0, equity: 0, pnl: 0, positions: 0 };
    total.cash += account.cash;
    total.balance += account.balance;
    total.unrealised += account.unrealised_pnl;
    total.equity += account.equity;
    total.pnl = total.equity - total.cash;
    total.positions += account.side === "flat" ? 0 : 1;
    totals.set(account.strategy_id, total);
  }
  return totals;
}

export interface LatestSignal {
  symbol: string;
  t: number;
  order: string;
  pending: boolean;
}

/** Each strategy's newest signal over its symbols. */
export function latestSignals(signals: SignalEvent[]): Map<string, LatestSignal> {
  const latest = new Map<string, LatestSignal>();
  for (const signal of signals) {
    const known = latest.get(signal.strategy_id);
    if (!known || signal.t > known.t) {
      latest.set(signal.strategy_id, {
        symbol: signal.symbol,
        t: signal.t,
        order: typeof signal.order === "string" && signal.order ? signal.order : "none",
        pending: Boolean(signal.pending),
      });
    }
  }
  return latest;
}

/** The signal list with ``signal`` replacing the one of its strategy and symbol (the stream's update). */
export function mergeSignal<T extends SignalEvent>(signals: T[], signal: T): T[] {
  const rest = signals.filter((known) => !(known.strategy_id === signal.strategy_id && known.symbol === signal.symbol));
  return [...rest, signal];
}

export type FeedKind = "order" | "fill" | "rejected" | "mismatch" | "foreign" | "broker" | "skipped" | "limit";

export interface FeedItem {
  id: string;
  kind: FeedKind;
  strategyId: string;
  /** When it happened (epoch ms): the order's candle, the fill, the skipped entry, the mismatch's start. */
  time: number;
  text: string;
  tone: "slate" | "green" | "red" | "amber" | "sky";
}

const SKIP_REASONS: Record<string, string> = {
  size_below_step: "size below the quantity step",
  below_min_qty: "under the minimum quantity",
  below_min_notional: "under the minimum notional",
  no_equity: "no equity left",
  above_max_notional: "above the maximum position value",
};

/** One line of the event feed for a stream event, or null for a type the feed does not show. */
export function feedItem(id: string, type: string, data: unknown): FeedItem | null {
  switch (type) {
    case "order": {
      const order = data as OrderEvent;
      const why = order.reason && order.reason !== "open" ? ` (${order.reason.replaceAll("_", " ")})` : "";
      return {
        id, kind: "order", strategyId: order.strategy_id, time: order.ts, tone: "sky",
        text: `Order: ${order.side} ${formatQuantity(order.size)} ${order.symbol} @ ${formatPrice(order.price)}${why}`,
      };
    }
    case "fill": {
      const fill = data as FillEvent;
      return {
        id, kind: "fill", strategyId: fill.strategy_id, time: fill.ts, tone: "green",
        text: `${fillText(fill)}, commission ${formatMoney(fill.commission)}`,
      };
    }
    case "skipped": {
      const skipped = data as SkippedEvent;
      return {
        id, kind: "skipped", strategyId: skipped.strategy_id, time: skipped.time, tone: "amber",
        text: `Skipped ${skipped.side} entry on ${skipped.symbol} @ ${formatPrice(skipped.price)}: ${SKIP_REASONS[skipped.reason] ?? skipped.reason} (equity ${formatMoney(skipped.equity)})`,
      };
    }
    case "limit": {
      const limit = data as LimitEvent;
      const name = limit.limit.replaceAll("_", " ");
      if (limit.action === "stop") {
        const loss = `${((limit.value ?? 0) * 100).toFixed(2)}% down, limit ${((limit.threshold ?? 0) * 100).toFixed(2)}%`;
        return {
          id, kind: "limit", strategyId: limit.strategy_id, time: limit.t, tone: "red",
          text: `Stopped by ${name} on ${limit.symbol} (${loss}): positions close, the strategy stops`,
        };
      }
      const what = limit.action === "flat" ? "the position is closed instead" : "order cancelled";
      return {
        id, kind: "limit", strategyId: limit.strategy_id, time: limit.t, tone: "red",
        text: `Blocked ${limit.order} entry on ${limit.symbol} (${limit.limit.replaceAll("_", " ")}): ${what}`,
      };
    }
    case "mismatch": {
      const mismatch = data as MismatchEvent;
      return {
        id, kind: "mismatch", strategyId: mismatch.strategy_id, time: mismatch.since, tone: "red",
        text: `Position mismatch on ${mismatch.symbol}: engine ${formatQuantity(mismatch.engine_size)}, broker ${formatQuantity(mismatch.broker_size)}${mismatch.confirmed ? " (confirmed)" : ""}${mismatch.reason ? `: ${mismatch.reason}` : ""}`,
      };
    }
    case "rejected": {
      const rejected = data as RejectedEvent;
      const code = rejected.code === null ? "" : ` ${rejected.code}`;
      return {
        id, kind: "rejected", strategyId: rejected.strategy_id, time: eventTime(id), tone: "red",
        text: `Rejected: ${rejected.side} ${formatQuantity(rejected.size)} ${rejected.symbol}, ${rejected.kind.replaceAll("_", " ")}${code}: ${rejected.reason}`,
      };
    }
    case "foreign": {
      const foreign = data as ForeignEvent;
      return {
        id, kind: "foreign", strategyId: "", time: foreign.time, tone: "amber",
        text: `Foreign order on ${foreign.symbol}: ${foreign.side} ${formatQuantity(foreign.executed)} (${foreign.status}, id ${foreign.client_order_id}), not placed by TickFlow: left alone`,
      };
    }
    case "broker": {
      const broker = data as BrokerEvent;
      return {
        id, kind: "broker", strategyId: broker.strategy_id, time: broker.since,
        tone: broker.action === "resumed" ? "green" : broker.action === "awaiting" ? "amber" : "red",
        text: brokerText(broker),
      };
    }
    default:
      return null;
  }
}

/** When a stream event was written (epoch ms): its id's first part. */
function eventTime(id: string): number {
  return Number(id.split("-")[0]);
}

export const FEED_SIZE = 200;

/** The feed with ``item`` on top, at most ``FEED_SIZE`` long, without repeating an id. */
export function pushFeed(feed: FeedItem[], item: FeedItem): FeedItem[] {
  if (feed.some((known) => known.id === item.id)) return feed;
  return [item, ...feed].slice(0, FEED_SIZE);
}

const QUOTES = ["USDT", "USDC", "FDUSD", "BUSD", "TUSD", "USD", "EUR", "GBP", "BTC", "ETH", "BNB"];

/** The quote currency the symbols share ("USDT" for BTCUSDT and ETHUSDT), or "" when unknown or mixed. */
export function quoteCurrency(symbols: string[]): string {
  const quotes = new Set(symbols.map((symbol) => QUOTES.find((quote) => symbol.toUpperCase().endsWith(quote) && symbol.length > quote.length) ?? ""));
  return quotes.size === 1 ? [...quotes][0] : "";
}

/** A money figure with its currency when known: "10,000.00 USDT". */
export function withUnit(text: string, unit: string): string {
  return unit && text !== "—" ? `${text} ${unit}` : text;
}
