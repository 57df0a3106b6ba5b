// The API's schemas by name, from the generated OpenAPI types (api-types.ts: `bash scripts/api-types.sh`).

import type { components } from "./api-types";

export type Schemas = components["schemas"];
export type Strategy = Schemas["Strategy"];
export type Backtest = Schemas["Backtest"];
export type BacktestSummary = Schemas["BacktestSummary"];
export type Sweep = Schemas["Sweep"];
export type SweepSummary = Schemas["SweepSummary"];
export type Account = Schemas["Account"];
export type ActiveStrategy = Schemas["ActiveStrategy"];
export type StrategyEquity = Schemas["StrategyEquity"];
export type TradeLog = Schemas["TradeLog"];
export type IndicatorFunction = Schemas["IndicatorFunction"];
export type PlatformStatus = Schemas["Status"];
export type Health = Schemas["Health"];

export interface Page<T> {
  items: T[];
  page: number;
  per_page: number;
  total: number;
  pages?: number;
}
