// The launch form's rules: its schema, dates in the user's time zone, the request it sends, and where
// the API's 422 messages go.

import { z } from "zod";

import type { TimeZoneChoice } from "@/lib/format";

export const DAY_MS = 86_400_000;

export interface LaunchValues {
  strategy_id: string;
  symbol: string;
  /** "YYYY-MM-DD", or "" for the first stored candle. */
  start: string;
  /** "YYYY-MM-DD" (that day included), or "" for the last stored candle. */
  end: string;
  cash: number;
  params: Record<string, number | undefined>;
}

/** The stored candles of the chosen symbol and timeframe, as date inputs' bounds. */
export interface DateRange {
  min: string;
  max: string;
}

function pad(value: number): string {
  return String(value).padStart(2, "0");
}

/** Epoch ms as the "YYYY-MM-DD" of a date input, on the calendar of ``zone``. */
export function toDateInput(ms: number, zone: TimeZoneChoice): string {
  const date = new Date(ms);
  return zone === "utc"
    ? `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`
    : `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The midnight that starts a "YYYY-MM-DD" day in ``zone``, as epoch ms; null for anything else. */
export function dayStartMs(value: string, zone: TimeZoneChoice): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]) - 1, Number(match[3])];
  const ms = zone === "utc" ? Date.UTC(year, month, day) : new Date(year, month, day).getTime();
  return Number.isFinite(ms) ? ms : null;
}

/** The day after a "YYYY-MM-DD" day starts (the exclusive end of a range that includes that day). */
export function nextDayStartMs(value: string, zone: TimeZoneChoice): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]) - 1, Number(match[3]) + 1];
  return zone === "utc" ? Date.UTC(year, month, day) : new Date(year, month, day).getTime();
}

export function dateRange(firstMs: number | undefined, lastMs: number | undefined, zone: TimeZoneChoice): DateRange | null {
  if (firstMs === undefined || lastMs === undefined) return null;
  return { min: toDateInput(firstMs, zone), max: toDateInput(lastMs, zone) };
}

/** The form's schema; ``range()`` is the stored range of the symbol chosen at the time of checking. */
export function launchSchema(range: () => DateRange | null) {
  const number = (what: string) => z.number({ error: `Enter ${what} as a number` }).refine(Number.isFinite, `Enter ${what} as a number`);
  return z
    .object({
      strategy_id: z.string().min(1, "Choose a strategy"),
      symbol: z.string().min(1, "Choose a symbol"),
      start: z.string(),
      end: z.string(),
      cash: number("the starting cash").refine((value) => value > 0, "The starting cash must be more than 0"),
      // A param of another strategy chosen before may linger undefined: only the shown ones are sent.
      params: z.record(z.string(), number("the value").optional()),
    })
    .superRefine((values, context) => {
      const bounds = range();
      // "YYYY-MM-DD" strings compare as the days they name.
      if (values.start && bounds && values.start < bounds.min) {
        context.addIssue({ code: "custom", path: ["start"], message: `The stored candles start on ${bounds.min}` });
      }
      if (values.start && bounds && values.start > bounds.max) {
        context.addIssue({ code: "custom", path: ["start"], message: `The stored candles end on ${bounds.max}` });
      }
      if (values.end && bounds && values.end > bounds.max) {
        context.addIssue({ code: "custom", path: ["end"], message: `The stored candles end on ${bounds.max}` });
      }
      if (values.end && bounds && values.end < bounds.min) {
        context.addIssue({ code: "custom", path: ["end"], message: `The stored candles start on ${bounds.min}` });
      }
      if (values.start && values.end && values.end < values.start) {
        context.addIssue({ code: "custom", path: ["end"], message: "The end must not be before the start" });
      }
    });
}

export interface LaunchRequest {
  strategy_id: string;
  symbol: string;
  start?: number;
  end?: number;
  cash: number;
  params: Record<string, number>;
}

/** The body of ``POST /backtests``: dates as epoch ms (the end excluded: the day after the last one chosen). */
export function launchRequest(values: LaunchValues, zone: TimeZoneChoice): LaunchRequest {
  const params = Object.fromEntries(Object.entries(values.params).filter((entry): entry is [string, number] => entry[1] !== undefined));
  const request: LaunchRequest = { strategy_id: values.strategy_id, symbol: values.symbol, cash: values.cash, params };
  const start = dayStartMs(values.start, zone);
  const end = nextDayStartMs(values.end, zone);
  if (start !== null) request.start = start;
  if (end !== null) request.end = end;
  return request;
}

export interface PlacedErrors {
  /** Form field ("symbol", "params.fast") -> the message shown under it. */
  fields: Record<string, string>;
  /** Messages about the params as a whole, shown above them. */
  params: string[];
  /** Messages for no field of the form, shown at the top. */
  other: string[];
}

const FORM_FIELDS = new Set(["strategy_id", "symbol", "start", "end", "cash"]);

/**
 * Where each of the API's 422 messages (``errors.json``) goes. A param's own path ("params.fast") is its field.
 * A spec problem a param caused ("indicators.fast.params.timeperiod: must be a whole number, got $fast = 3.5")
 * goes to the field of the param it names with "$name", worded "must be a whole number, got $fast = 3.5
 * (indicators.fast.params.timeperiod)"; one naming no param goes above the params.
 */
export function placeApiErrors(errors: Record<string, string[]>, paramNames: string[]): PlacedErrors {
  const placed: PlacedErrors = { fields: {}, params: [], other: [] };
  const add = (field: string, message: string) => {
    placed.fields[field] = placed.fields[field] ? `${placed.fields[field]}; ${message}` : message;
  };
  for (const [path, messages] of Object.entries(errors)) {
    for (const message of messages) {
      if (FORM_FIELDS.has(path)) {
        add(path, message);
      } else if (path.startsWith("params.") && paramNames.includes(path.slice("params.".length))) {
        add(path, message);
      } else if (path === "params" || path.startsWith("params.")) {
        const text = path === "params" ? message : `${path}: ${message}`;
        const named = paramNames.filter((name) => new RegExp(`\\$${name}\\b`).test(message));
        if (named.length === 0) placed.params.push(text);
        const where = /^([\w.[\]]+): (.*)$/s.exec(text);
        for (const name of named) add(`params.${name}`, where ? `${where[2]} (${where[1]})` : text);
      } else {
        placed.other.push(path ? `${path}: ${message}` : message);
      }
    }
  }
  return placed;
}
