// The trades journal's filters, as they live in the URL (shareable; the back button steps through them),
// and the query they make for GET /trades.

import type { TimeZoneChoice } from "@/lib/format";

export type TradeStatus = "" | "open" | "closed";

export interface TradeFilters {
  strategy: string;
  symbol: string;
  status: TradeStatus;
  /** First day (YYYY-MM-DD) of the range trades opened in, in the time zone the user shows times in. */
  from: string;
  /** Last day of the range, included. */
  to: string;
  page: number;
}

export const NO_FILTERS: TradeFilters = { strategy: "", symbol: "", status: "", from: "", to: "", page: 1 };

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

function day(value: string | null): string {
  if (!value || !DAY.test(value)) return "";
  return Number.isNaN(Date.parse(`${value}T00:00:00Z`)) ? "" : value;
}

export function parseFilters(params: Pick<URLSearchParams, "get">): TradeFilters {
  const status = params.get("status");
  const page = Number(params.get("page"));
  return {
    strategy: params.get("strategy")?.trim() ?? "",
    symbol: params.get("symbol")?.trim().toUpperCase() ?? "",
    status: status === "open" || status === "closed" ? status : "",
    from: day(params.get("from")),
    to: day(params.get("to")),
    page: Number.isInteger(page) && page > 1 ? page : 1,
  };
}

/** The query string of ``filters`` ("" when none): empty filters and page 1 left out, in a fixed order. */
export function filtersToSearch(filters: TradeFilters): string {
  const params = new URLSearchParams();
  if (filters.strategy) params.set("strategy", filters.strategy);
  if (filters.symbol) params.set("symbol", filters.symbol.toUpperCase());
  if (filters.status) params.set("status", filters.status);
  if (filters.from) params.set("from", filters.from);
  if (filters.to) params.set("to", filters.to);
  if (filters.page > 1) params.set("page", String(filters.page));
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** Midnight at the start of ``date`` (YYYY-MM-DD) in UTC or in the browser's time zone, as epoch ms. */
export function dayStartMs(date: string, zone: TimeZoneChoice): number | null {
  const match = DAY.exec(date);
  if (!match) return null;
  const [year, month, dayOfMonth] = [Number(match[1]), Number(match[2]) - 1, Number(match[3])];
  return zone === "utc" ? Date.UTC(year, month, dayOfMonth) : new Date(year, month, dayOfMonth).getTime();
}

/** A problem with the range, to show at the "to" field, or null. */
export function rangeError(filters: Pick<TradeFilters, "from" | "to">): string | null {
  return filters.from && filters.to && filters.to < filters.from ? "The last day comes before the first." : null;
}

export interface TradeQuery {
  strategy_id?: string;
  symbol?: string;
  status?: "open" | "closed";
  start?: number;
  end?: number;
}

/** GET /trades' filters (no paging): the range covers whole days, ``to`` included. */
export function tradeQuery(filters: TradeFilters, zone: TimeZoneChoice): TradeQuery {
  const query: TradeQuery = {};
  if (filters.strategy) query.strategy_id = filters.strategy;
  if (filters.symbol) query.symbol = filters.symbol;
  if (filters.status) query.status = filters.status;
  if (!rangeError(filters)) {
    const start = filters.from ? dayStartMs(filters.from, zone) : null;
    const last = filters.to ? dayStartMs(filters.to, zone) : null;
    if (start !== null) query.start = start;
    // The day after the last one, at its own midnight (a day is not always 24 hours in local time).
    if (last !== null) query.end = zone === "utc" ? last + DAY_MS : dayStartMs(nextDay(filters.to), zone) ?? last + DAY_MS;
  }
  return query;
}

function nextDay(date: string): string {
  const next = new Date(Date.parse(`${date}T00:00:00Z`) + DAY_MS);
  return next.toISOString().slice(0, 10);
}

export function hasFilters(filters: TradeFilters): boolean {
  return Boolean(filters.strategy || filters.symbol || filters.status || filters.from || filters.to);
}
