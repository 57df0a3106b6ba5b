// A done run's stats (strategies/stats.py) in three groups, each value with its unit: returns, risk, trades.

import { formatPct } from "@/components/backtests/stats";
import { formatDuration, formatMoney, formatNumber } from "@/lib/format";

export interface StatItem {
  key: string;
  label: string;
  value: string;
  /** Gains green, losses red: only where the sign is the news (returns, trades). */
  tone?: "gain" | "loss";
  /** What the figure is, for a tooltip. */
  hint?: string;
}

export interface StatGroup {
  title: string;
  items: StatItem[];
}

type Kind = "pct" | "signed-pct" | "money" | "ratio" | "duration" | "count";

interface Definition {
  key: string;
  label: string;
  kind: Kind;
  toned?: boolean;
  hint?: string;
}

const GROUPS: { title: string; stats: Definition[] }[] = [
  {
    title: "Returns",
    stats: [
      { key: "return_pct", label: "Return", kind: "signed-pct", toned: true, hint: "Final equity against the starting cash" },
      { key: "final_equity", label: "Final equity", kind: "money" },
      { key: "peak_equity", label: "Peak equity", kind: "money" },
      { key: "return_ann_pct", label: "Annual return", kind: "signed-pct", toned: true },
      { key: "cagr_pct", label: "CAGR", kind: "signed-pct", toned: true, hint: "Compound annual growth rate" },
      { key: "buy_hold_return_pct", label: "Buy & hold return", kind: "signed-pct", toned: true, hint: "Holding the symbol from the first bar every indicator has a value" },
      { key: "exposure_pct", label: "Exposure", kind: "pct", hint: "Share of bars with a position open" },
      { key: "duration", label: "Duration", kind: "duration", hint: "From the first bar to the last" },
    ],
  },
  {
    title: "Risk",
    stats: [
      { key: "max_drawdown_pct", label: "Max drawdown", kind: "signed-pct", hint: "Deepest fall of equity under its running peak" },
      { key: "avg_drawdown_pct", label: "Average drawdown", kind: "signed-pct" },
      { key: "max_drawdown_duration", label: "Longest drawdown", kind: "duration" },
      { key: "volatility_ann_pct", label: "Annual volatility", kind: "pct" },
      { key: "sharpe", label: "Sharpe ratio", kind: "ratio" },
      { key: "sortino", label: "Sortino ratio", kind: "ratio" },
      { key: "calmar", label: "Calmar ratio", kind: "ratio" },
    ],
  },
  {
    title: "Trades",
    stats: [
      { key: "n_trades", label: "Closed trades", kind: "count" },
      { key: "win_rate_pct", label: "Win rate", kind: "pct", hint: "Share of closed trades with a positive PnL" },
      { key: "profit_factor", label: "Profit factor", kind: "ratio", hint: "Gains over losses" },
      { key: "expectancy_pct", label: "Expectancy per trade", kind: "signed-pct", toned: true },
      { key: "avg_trade_pct", label: "Average trade", kind: "signed-pct", toned: true, hint: "Geometric mean of the trades' returns" },
      { key: "best_trade_pct", label: "Best trade", kind: "signed-pct", toned: true },
      { key: "worst_trade_pct", label: "Worst trade", kind: "signed-pct", toned: true },
      { key: "avg_holding_time", label: "Average holding time", kind: "duration" },
      { key: "total_commission", label: "Commission paid", kind: "money" },
    ],
  },
];

/** Shown in the page's header, not among the stats. */
const ELSEWHERE = new Set(["start", "end"]);

const UNDEFINED_HINT = "Not defined for this run (too few trades or days)";

function formatted(value: number, kind: Kind, quote: string): string {
  switch (kind) {
    case "pct":
      return formatPct(value, false);
    case "signed-pct":
      return formatPct(value);
    case "money":
      return quote ? `${formatMoney(value)} ${quote}` : formatMoney(value);
    case "ratio":
      return formatNumber(value, 2);
    case "duration":
      return formatDuration(value);
    case "count":
      return formatNumber(value, 0);
  }
}

function toneOf(value: number): "gain" | "loss" | undefined {
  return value > 0 ? "gain" : value < 0 ? "loss" : undefined;
}

/** A stat's name as a label, for stats this page does not know yet ("foo_bar_pct" → "Foo bar (%)"). */
export function labelOf(key: string): string {
  const words = key.replace(/_pct$/, "").replaceAll("_", " ");
  return `${words.charAt(0).toUpperCase()}${words.slice(1)}${key.endsWith("_pct") ? " (%)" : ""}`;
}

/**
 * The groups of stats of a run, every value with its unit (``quote``: the currency of money figures, "" if
 * unknown). A stat the API sends that no group names goes to "Other", so none is hidden; a stat that is null
 * (undefined for this run: no trades, a single day) shows "—" and says why.
 */
export function statGroups(stats: Record<string, unknown> | undefined, quote: string): StatGroup[] {
  const values = stats ?? {};
  const named = new Set<string>();
  const groups: StatGroup[] = GROUPS.map((group) => ({
    title: group.title,
    items: group.stats.map((definition) => {
      named.add(definition.key);
      const value = values[definition.key];
      if (typeof value !== "number" || !Number.isFinite(value)) {
        return { key: definition.key, label: definition.label, value: "—", hint: UNDEFINED_HINT };
      }
      return {
        key: definition.key,
        label: definition.label,
        value: formatted(value, definition.kind, quote),
        tone: definition.toned ? toneOf(value) : undefined,
        hint: definition.hint,
      };
    }),
  }));
  const others = Object.entries(values).filter(([key]) => !named.has(key) && !ELSEWHERE.has(key));
  if (others.length) {
    groups.push({
      title: "Other",
      items: others.map(([key, value]) => ({
        key,
        label: labelOf(key),
        value: typeof value === "number" ? (key.endsWith("_pct") ? formatPct(value) : formatNumber(value, 2)) : value == null ? "—" : String(value),
      })),
    });
  }
  return groups;
}
