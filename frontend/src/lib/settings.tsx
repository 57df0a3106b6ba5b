"use client";
// The user's display settings, kept in localStorage: the time zone every time is shown in, and the theme.

import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";

import type { TimeZoneChoice } from "./format";

export type Theme = "light" | "dark";

interface Settings {
  zone: TimeZoneChoice;
  theme: Theme;
  setZone(zone: TimeZoneChoice): void;
  setTheme(theme: Theme): void;
}

const KEY = "tickflow.settings";
const SettingsContext = createContext<Settings | null>(null);

function stored(): { zone: TimeZoneChoice; theme: Theme } {
  try {
    const value = JSON.parse(window.localStorage.getItem(KEY) ?? "{}");
    return { zone: value.zone === "local" ? "local" : "utc", theme: value.theme === "dark" ? "dark" : "light" };
  } catch {
    return { zone: "utc", theme: "light" };
  }
}

export function SettingsProvider({ children }: { children: ReactNode }) {
  const [values, setValues] = useState<{ zone: TimeZoneChoice; theme: Theme }>({ zone: "utc", theme: "light" });
  useEffect(() => setValues(stored()), []);
  useEffect(() => {
    document.documentElement.classList.toggle("dark", values.theme === "dark");
  }, [values.theme]);
  const save = useCallback((next: { zone: TimeZoneChoice; theme: Theme }) => {
    window.localStorage.setItem(KEY, JSON.stringify(next));
    setValues(next);
  }, []);
  const settings = useMemo<Settings>(
    () => ({
      ...values,
      setZone: (zone) => save({ ...values, zone }),
      setTheme: (theme) => save({ ...values, theme }),
    }),
    [values, save],
  );
  return <SettingsContext.Provider value={settings}>{children}</SettingsContext.Provider>;
}

export function useSettings(): Settings {
  const settings = useContext(SettingsContext);
  if (!settings) throw new Error("useSettings outside SettingsProvider");
  return settings;
}
