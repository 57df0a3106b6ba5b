"use client";
// The journal's filters: strategy, symbol, open/closed and the days trades opened in. Every change goes to the
// URL (the page reads its filters from there); the symbol applies on Enter or when the field is left.

import { useEffect, useState, type FormEvent } from "react";

import { Button, Field, inputClass } from "@/components/ui";
import type { TimeZoneChoice } from "@/lib/format";
import type { Strategy } from "@/lib/types";

import { hasFilters, NO_FILTERS, rangeError, type TradeFilters, type TradeStatus } from "./filters";

export function FilterBar({ filters, strategies, symbols, zone, onChange }: {
  filters: TradeFilters;
  strategies: Strategy[];
  symbols: string[];
  zone: TimeZoneChoice;
  onChange: (next: TradeFilters) => void;
}) {
  const [symbol, setSymbol] = useState(filters.symbol);
  useEffect(() => setSymbol(filters.symbol), [filters.symbol]); // back and forward move the URL under us

  function change(patch: Partial<TradeFilters>) {
    onChange({ ...filters, ...patch, page: 1 });
  }
  function applySymbol(event?: FormEvent) {
    event?.preventDefault();
    const value = symbol.trim().toUpperCase();
    if (value !== filters.symbol) change({ symbol: value });
  }
  const badRange = rangeError(filters);
  const zoneHint = zone === "utc" ? "Days in UTC" : "Days in local time";

  return (
    <form onSubmit={applySymbol} aria-label="Trade filters" className="grid grid-cols-2 items-start gap-3 md:grid-cols-3 xl:grid-cols-[minmax(12rem,1.5fr)_minmax(8rem,1fr)_minmax(8rem,1fr)_minmax(9rem,1fr)_minmax(9rem,1fr)_auto]">
      <Field label="Strategy" htmlFor="filter-strategy">
        <select id="filter-strategy" className={inputClass} value={filters.strategy} onChange={(event) => change({ strategy: event.target.value })}>
          <option value="">All strategies</option>
          {filters.strategy && !strategies.some((strategy) => strategy.id === filters.strategy) && <option value={filters.strategy}>{filters.strategy}</option>}
          {strategies.map((strategy) => (
            <option key={strategy.id} value={strategy.id}>
              {strategy.name}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Symbol" htmlFor="filter-symbol" hint="Enter to apply">
        <input
          id="filter-symbol"
          className={`${inputClass} uppercase placeholder:normal-case`}
          list="filter-symbols"
          autoComplete="off"
          spellCheck={false}
          placeholder="Any symbol"
          value={symbol}
          onChange={(event) => setSymbol(event.target.value)}
          onBlur={() => applySymbol()}
        />
        <datalist id="filter-symbols">
          {symbols.map((known) => (
            <option key={known} value={known} />
          ))}
        </datalist>
      </Field>
      <Field label="Status" htmlFor="filter-status">
        <select id="filter-status" className={inputClass} value={filters.status} onChange={(event) => change({ status: event.target.value as TradeStatus })}>
          <option value="">Open and closed</option>
          <option value="open">Open</option>
          <option value="closed">Closed</option>
        </select>
      </Field>
      <Field label="Opened from" htmlFor="filter-from" hint={zoneHint}>
        <input id="filter-from" type="date" className={inputClass} value={filters.from} max={filters.to || undefined} onChange={(event) => change({ from: event.target.value })} />
      </Field>
      <Field label="Opened until" htmlFor="filter-to" hint={`${zoneHint}, included`} error={badRange ?? undefined}>
        <input
          id="filter-to"
          type="date"
          className={inputClass}
          value={filters.to}
          min={filters.from || undefined}
          aria-invalid={badRange ? true : undefined}
          aria-describedby={badRange ? "filter-to-error" : undefined}
          onChange={(event) => change({ to: event.target.value })}
        />
      </Field>
      <div className="flex gap-2 xl:pt-6">
        <Button onClick={() => onChange(NO_FILTERS)} disabled={!hasFilters(filters)}>
          Clear filters
        </Button>
      </div>
      {/* Enter in the symbol field submits the form. */}
      <button type="submit" hidden aria-hidden tabIndex={-1} />
    </form>
  );
}
