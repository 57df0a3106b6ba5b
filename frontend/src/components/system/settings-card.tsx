"use client";
// Display settings that apply to every page at once: the time zone times are shown in, and the theme.

import type { ReactNode } from "react";

import { Card } from "@/components/ui";
import { formatTime } from "@/lib/format";
import { useSettings } from "@/lib/settings";

function Choice<T extends string>({ name, value, current, onChange, children }: {
  name: string;
  value: T;
  current: T;
  onChange: (value: T) => void;
  children: ReactNode;
}) {
  const checked = value === current;
  return (
    <label
      className={`flex cursor-pointer items-start gap-2 rounded-md border px-3 py-2 text-sm ${
        checked ? "border-sky-600 bg-sky-50 dark:border-sky-500 dark:bg-sky-950" : "border-slate-300 dark:border-slate-700"
      }`}
    >
      <input type="radio" name={name} value={value} checked={checked} onChange={() => onChange(value)} className="mt-0.5" />
      <span>{children}</span>
    </label>
  );
}

export function SettingsCard({ now }: { now: number }) {
  const { zone, theme, setZone, setTheme } = useSettings();
  const local = formatTime(now, "local", false).split(" ").pop();
  return (
    <Card title="Display settings">
      <div className="grid gap-6 md:grid-cols-2">
        <fieldset className="flex flex-col gap-2">
          <legend className="mb-2 text-sm font-medium">Time zone</legend>
          <Choice name="zone" value="utc" current={zone} onChange={setZone}>
            UTC <span className="text-slate-500 dark:text-slate-400">(default)</span>
          </Choice>
          <Choice name="zone" value="local" current={zone} onChange={setZone}>
            Local time <span className="text-slate-500 dark:text-slate-400">(this browser: {local})</span>
          </Choice>
          <p className="text-xs text-slate-500 dark:text-slate-400">
            Every time on every page shows as: <span className="tabular" data-testid="time-sample">{formatTime(now, zone, false)}</span>
          </p>
        </fieldset>
        <fieldset className="flex flex-col gap-2">
          <legend className="mb-2 text-sm font-medium">Theme</legend>
          <Choice name="theme" value="light" current={theme} onChange={setTheme}>
            Light
          </Choice>
          <Choice name="theme" value="dark" current={theme} onChange={setTheme}>
            Dark
          </Choice>
          <p className="text-xs text-slate-500 dark:text-slate-400">Kept in this browser.</p>
        </fieldset>
      </div>
    </Card>
  );
}
