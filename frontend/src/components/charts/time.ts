// lightweight-charts counts time in UTC seconds; TickFlow in epoch milliseconds. These convert, and make the
// axis and crosshair show UTC or local time as the user chose.

import { type Time, TickMarkType, type UTCTimestamp } from "lightweight-charts";

import { formatTime, type TimeZoneChoice } from "@/lib/format";

export function toChartTime(ms: number): UTCTimestamp {
  return Math.floor(ms / 1000) as UTCTimestamp;
}

export function fromChartTime(time: Time): number {
  return (time as number) * 1000;
}

export function timeOptions(zone: TimeZoneChoice) {
  return {
    localization: { timeFormatter: (time: Time) => formatTime(fromChartTime(time), zone, false) },
    timeScale: {
      timeVisible: true,
      secondsVisible: false,
      // The first mark of a day (year, month) shows its date, whatever its hour: sampled curves rarely have a point at 00:00.
      tickMarkFormatter: (time: Time, type?: TickMarkType) => {
        const date = new Date(fromChartTime(time));
        const hours = zone === "utc" ? date.getUTCHours() : date.getHours();
        const minutes = zone === "utc" ? date.getUTCMinutes() : date.getMinutes();
        const day = zone === "utc" ? date.getUTCDate() : date.getDate();
        const month = (zone === "utc" ? date.getUTCMonth() : date.getMonth()) + 1;
        const year = zone === "utc" ? date.getUTCFullYear() : date.getFullYear();
        return (type !== undefined && type <= TickMarkType.DayOfMonth) || (hours === 0 && minutes === 0)
          ? `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`
          : `${String(hours).padStart(2, "0")}:${String(minutes).padStart(2, "0")}`;
      },
    },
  };
}

export function themeOptions(dark: boolean) {
  return {
    layout: {
      background: { color: dark ? "#0f172a" : "#ffffff" },
      textColor: dark ? "#cbd5e1" : "#334155",
      panes: { separatorColor: dark ? "#334155" : "#e2e8f0" },
    },
    grid: {
      vertLines: { color: dark ? "#1e293b" : "#f1f5f9" },
      horzLines: { color: dark ? "#1e293b" : "#f1f5f9" },
    },
  };
}
