"use client";
// Choose a TA-Lib function from the catalogue (GET /indicators), name it, and have its entry, with every
// param at its default, written into the spec's "indicators".

import { useQuery } from "@tanstack/react-query";
import { useEffect, useId, useMemo, useState, type FormEvent, type KeyboardEvent } from "react";

import { Badge, Button, ErrorNotice, Skeleton, inputClass } from "@/components/ui";
import { get } from "@/lib/api";
import { formatNumber } from "@/lib/format";
import type { IndicatorFunction } from "@/lib/types";

import { Dialog } from "./dialog";
import { indicatorEntry, indicatorNameProblem, searchCatalogue, seriesNames, suggestName } from "./spec-model";

export function useCatalogue() {
  return useQuery({ queryKey: ["indicators"], queryFn: () => get<IndicatorFunction[]>("/indicators"), staleTime: Infinity });
}

function bound(value: number | null): string {
  return value === null ? "" : formatNumber(value, Number.isInteger(value) ? 0 : 2);
}

export function IndicatorPicker({ open, onClose, taken, onInsert }: {
  open: boolean;
  onClose: () => void;
  taken: readonly string[];
  onInsert: (name: string, entry: ReturnType<typeof indicatorEntry>) => void;
}) {
  const catalogue = useCatalogue();
  const [query, setQuery] = useState("");
  const [group, setGroup] = useState("");
  const [active, setActive] = useState(0);
  const [chosen, setChosen] = useState<IndicatorFunction | null>(null);
  const [name, setName] = useState("");
  const [tried, setTried] = useState(false);
  const ids = { list: useId(), search: useId(), group: useId(), name: useId(), nameNote: useId() };

  useEffect(() => {
    if (open) {
      setQuery("");
      setGroup("");
      setActive(0);
      setChosen(null);
      setName("");
      setTried(false);
    }
  }, [open]);

  const groups = useMemo(() => [...new Set((catalogue.data ?? []).map((fn) => fn.group))].sort(), [catalogue.data]);
  const found = useMemo(() => searchCatalogue(catalogue.data ?? [], query, group), [catalogue.data, query, group]);
  const shown = found.slice(0, 200);
  const activeIndex = Math.min(active, Math.max(shown.length - 1, 0));

  function choose(fn: IndicatorFunction, focusName = false) {
    setChosen(fn);
    setName(suggestName(fn.function, taken));
    setTried(false);
    if (focusName) window.setTimeout(() => (document.getElementById(ids.name) as HTMLInputElement | null)?.select(), 0);
  }

  function onSearchKey(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      const next = Math.min(Math.max(activeIndex + step, 0), shown.length - 1);
      setActive(next);
      document.getElementById(`${ids.list}-${next}`)?.scrollIntoView({ block: "nearest" });
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (shown[activeIndex]) choose(shown[activeIndex], true);
    }
  }

  const problem = chosen ? indicatorNameProblem(name.trim(), taken) : null;

  function insert(event: FormEvent) {
    event.preventDefault();
    setTried(true);
    if (!chosen || problem) return;
    onInsert(name.trim(), indicatorEntry(chosen));
  }

  return (
    <Dialog open={open} onClose={onClose} title="Add an indicator" wide testId="indicator-picker"
      description="Search TA-Lib's functions by name or group, pick one, and name it: rules then read it by that name.">
      {catalogue.isPending ? (
        <Skeleton className="h-64" />
      ) : catalogue.error ? (
        <ErrorNotice error={catalogue.error} />
      ) : (
        <div className="grid grid-cols-[minmax(0,1fr)_minmax(0,1fr)] gap-5">
          <div className="flex min-w-0 flex-col gap-2">
            <div className="flex gap-2">
              <div className="flex min-w-0 flex-1 flex-col gap-1">
                <label htmlFor={ids.search} className="text-sm font-medium">
                  Search
                </label>
                <input
                  id={ids.search}
                  role="combobox"
                  aria-expanded="true"
                  aria-controls={ids.list}
                  aria-autocomplete="list"
                  aria-activedescendant={shown.length ? `${ids.list}-${activeIndex}` : undefined}
                  value={query}
                  onChange={(event) => {
                    setQuery(event.target.value);
                    setActive(0);
                  }}
                  onKeyDown={onSearchKey}
                  placeholder="rsi, moving average, volatility…"
                  autoComplete="off"
                  className={inputClass}
                />
              </div>
              <div className="flex w-44 flex-col gap-1">
                <label htmlFor={ids.group} className="text-sm font-medium">
                  Group
                </label>
                <select id={ids.group} value={group} onChange={(event) => setGroup(event.target.value)} className={inputClass}>
                  <option value="">All groups</option>
                  {groups.map((item) => (
                    <option key={item}>{item}</option>
                  ))}
                </select>
              </div>
            </div>
            <p className="text-xs text-slate-500 dark:text-slate-400" aria-live="polite">
              {found.length} of {catalogue.data?.length ?? 0} functions · ↑ ↓ to move, Enter to pick
            </p>
            <ul id={ids.list} role="listbox" aria-label="TA-Lib functions" className="h-80 overflow-y-auto rounded-md border border-slate-200 dark:border-slate-700">
              {shown.map((fn, index) => (
                <li
                  key={fn.function}
                  id={`${ids.list}-${index}`}
                  role="option"
                  aria-selected={chosen?.function === fn.function}
                  onClick={() => {
                    setActive(index);
                    choose(fn);
                  }}
                  className={`cursor-pointer border-b border-slate-100 px-3 py-1.5 text-sm last:border-0 dark:border-slate-800 ${
                    index === activeIndex ? "bg-sky-50 dark:bg-slate-800" : ""
                  } ${chosen?.function === fn.function ? "font-semibold" : ""}`}
                >
                  <span className="font-mono">{fn.function}</span>
                  <span className="ml-2 text-slate-600 dark:text-slate-300">{fn.display_name}</span>
                  <span className="block text-xs text-slate-600 dark:text-slate-400">{fn.group}</span>
                </li>
              ))}
              {!shown.length && <li className="px-3 py-6 text-center text-sm text-slate-500 dark:text-slate-400">No function matches. Try fewer words, or all groups.</li>}
            </ul>
          </div>
          <div className="min-w-0">
            {chosen ? (
              <form onSubmit={insert} noValidate className="flex flex-col gap-3" data-testid="indicator-choice">
                <div>
                  <p className="font-semibold">
                    <span className="font-mono">{chosen.function}</span> · {chosen.display_name}
                  </p>
                  <p className="mt-1 flex flex-wrap gap-1 text-xs">
                    <Badge>{chosen.group}</Badge>
                    <Badge tone="sky">{chosen.pane === "price" ? "drawn on the price pane" : "drawn in its own pane"}</Badge>
                  </p>
                </div>
                <div>
                  <h3 className="text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400">Params (TA-Lib defaults)</h3>
                  {chosen.params.length ? (
                    <table className="mt-1 w-full text-sm">
                      <thead className="sr-only">
                        <tr>
                          <th scope="col">Param</th>
                          <th scope="col">Default</th>
                          <th scope="col">Range</th>
                        </tr>
                      </thead>
                      <tbody>
                        {chosen.params.map((param) => (
                          <tr key={param.name}>
                            <td className="py-0.5 font-mono">{param.name}</td>
                            <td className="tabular py-0.5 text-right">{formatNumber(param.default, param.type === "integer" ? 0 : 2)}</td>
                            <td className="py-0.5 pl-3 text-xs text-slate-500 dark:text-slate-400">
                              {param.type === "integer" ? "whole number" : "number"}
                              {param.minimum !== null || param.maximum !== null ? `, ${bound(param.minimum) || "−∞"} to ${bound(param.maximum) || "∞"}` : ""}
                            </td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  ) : (
                    <p className="mt-1 text-sm text-slate-600 dark:text-slate-400">None.</p>
                  )}
                </div>
                <div>
                  <h3 className="text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400">Reads</h3>
                  <p className="mt-1 font-mono text-sm">{chosen.inputs.map((input) => `${input.name} = ${input.default ?? "(must be given)"}`).join(", ")}</p>
                </div>
                <div className="flex flex-col gap-1">
                  <label htmlFor={ids.name} className="text-sm font-medium">
                    Name in the spec
                  </label>
                  <input
                    id={ids.name}
                    value={name}
                    onChange={(event) => setName(event.target.value)}
                    aria-invalid={tried && problem ? true : undefined}
                    aria-describedby={ids.nameNote}
                    autoComplete="off"
                    spellCheck={false}
                    className={`${inputClass} font-mono`}
                  />
                  <p id={ids.nameNote} role={tried && problem ? "alert" : undefined} className={`text-xs ${tried && problem ? "text-rose-600 dark:text-rose-400" : "text-slate-500 dark:text-slate-400"}`}>
                    {tried && problem ? problem : `Rules read it as ${seriesNames(name.trim() || "name", chosen).join(", ")}.`}
                  </p>
                </div>
                <div className="flex justify-end gap-2">
                  <Button onClick={onClose}>Cancel</Button>
                  <Button type="submit" variant="primary">
                    Insert {chosen.function}
                  </Button>
                </div>
              </form>
            ) : (
              <div className="flex h-full flex-col justify-between gap-4">
                <p className="text-sm text-slate-600 dark:text-slate-400">Pick a function on the left to see its params and outputs.</p>
                <div className="flex justify-end">
                  <Button onClick={onClose}>Cancel</Button>
                </div>
              </div>
            )}
          </div>
        </div>
      )}
    </Dialog>
  );
}
