"use client";
// The objective over any two swept params, the others held at the best result's values; the best cell marked.
// A cell (clicked, or chosen with the selects below for the keyboard) can be run as a backtest.

import { type ReactNode, useMemo, useState } from "react";

import { EChart } from "@/components/charts/echart";
import { Badge, Button, Card, EmptyState, ErrorNotice, inputClass, Skeleton } from "@/components/ui";
import { useSettings } from "@/lib/settings";
import type { Sweep } from "@/lib/types";

import { axisLabel, bestCell, cellParams, cellValue, heatmapOption } from "./heatmap";
import { formatObjective, OBJECTIVES, objectiveLabel, paramsLabel, progressOf, sweptParams } from "./model";
import { useHeatmap } from "./queries";

function Select({ id, label, value, onChange, children }: { id: string; label: string; value: string; onChange: (value: string) => void; children: ReactNode }) {
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-xs font-medium text-slate-600 dark:text-slate-400">
        {label}
      </label>
      <select id={id} className={`${inputClass} min-w-28`} value={value} onChange={(event) => onChange(event.target.value)}>
        {children}
      </select>
    </div>
  );
}

export function HeatmapCard({ sweep, onBacktest, backtesting }: {
  sweep: Sweep;
  onBacktest: (params: Record<string, unknown>) => void;
  backtesting: boolean;
}) {
  const { theme } = useSettings();
  const swept = sweptParams(sweep);
  const [axes, setAxes] = useState<{ x: string; y: string }>({ x: swept[0] ?? "", y: swept[1] ?? "" });
  const [objective, setObjective] = useState(sweep.objective ?? "sharpe");
  const [chosen, setChosen] = useState<{ x: number; y: number } | null>(null);
  const enabled = swept.length >= 2 && axes.x !== axes.y;
  const heatmap = useHeatmap(sweep.id ?? "", axes.x, axes.y, objective, enabled);
  const map = heatmap.data && heatmap.data.x.param === axes.x && heatmap.data.y.param === axes.y ? heatmap.data : undefined;
  const best = map ? bestCell(map) : null;
  const selected = chosen ?? best;
  const label = objectiveLabel(objective);
  // Made anew only when the matrix itself changed: a read that brings the same cells leaves the chart as it is.
  const mapKey = map ? JSON.stringify(map) : "";
  const option = useMemo(
    () => (map ? heatmapOption(map, { format: (value) => formatObjective(objective, value), objectiveLabel: label, dark: theme === "dark", selected }) : null),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [mapKey, objective, label, theme, selected?.x, selected?.y],
  );

  function setAxis(which: "x" | "y", param: string) {
    setChosen(null);
    setAxes((current) => {
      const other = which === "x" ? current.y : current.x;
      const swapped = param === other ? (which === "x" ? current.x : current.y) : other;
      return which === "x" ? { x: param, y: swapped } : { x: swapped, y: param };
    });
  }

  if (swept.length < 2) {
    return (
      <Card title="Heatmap">
        <EmptyState title="A heatmap needs two swept params">
          This sweep varies {swept.length ? <code>{swept[0]}</code> : "no param"} only: the ranking below shows every value. Sweep two or more params to see the
          objective over any two of them.
        </EmptyState>
      </Card>
    );
  }

  const progress = progressOf(sweep);
  const value = map && selected ? cellValue(map, selected.x, selected.y) : null;
  const params = map && selected ? cellParams(map, selected.x, selected.y) : null;
  const fixed = map ? Object.entries(map.fixed) : [];
  return (
    <Card
      title="Heatmap"
      actions={
        map && !map.complete ? (
          <span data-testid="heatmap-partial">
            <Badge tone="amber">
              Partial: {progress.chunksDone} of {progress.chunksTotal} chunks done
            </Badge>
          </span>
        ) : null
      }
    >
      <div className="mb-3 flex flex-wrap items-end gap-3">
        <Select id="heatmap-x" label="Across (x)" value={axes.x} onChange={(param) => setAxis("x", param)}>
          {swept.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </Select>
        <Select id="heatmap-y" label="Up (y)" value={axes.y} onChange={(param) => setAxis("y", param)}>
          {swept.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </Select>
        <Select id="heatmap-objective" label="Colour by" value={objective} onChange={(next) => setObjective(next)}>
          {OBJECTIVES.map((item) => (
            <option key={item.key} value={item.key}>
              {item.label}
            </option>
          ))}
        </Select>
        {heatmap.isFetching && !heatmap.isPending ? (
          <span className="mb-2 text-xs text-slate-500 dark:text-slate-400" role="status">
            Updating…
          </span>
        ) : null}
      </div>
      {heatmap.error ? (
        <ErrorNotice error={heatmap.error} />
      ) : !map || !option ? (
        <Skeleton className="h-[22rem]" />
      ) : (
        <>
          <p className="mb-2 text-xs text-slate-500 dark:text-slate-400" data-testid="heatmap-fixed">
            {fixed.length ? `Other params held at the best result's values: ${paramsLabel(Object.fromEntries(fixed))}. ` : ""}
            ★ marks the best cell (the {map.maximize ? "highest" : "lowest"} {label}); blank cells have no result
            {map.complete ? "" : " yet"}. Click a cell to run it as a backtest.
          </p>
          <div data-testid="heatmap" data-x-count={map.x.values.length} data-y-count={map.y.values.length}>
            <EChart
              option={option}
              height={Math.min(520, Math.max(300, 48 + 56 + map.y.values.length * 34))}
              label={`${label} over ${map.x.param} (across) and ${map.y.param} (up)${map.complete ? "" : ", results so far"}`}
              onClick={(clicked) => {
                const cell = (clicked.data as { value?: [number, number, number] } | undefined)?.value;
                if (cell) setChosen({ x: cell[0], y: cell[1] });
              }}
            />
          </div>
          <div className="mt-3 flex flex-wrap items-end gap-3 rounded-md bg-slate-50 p-3 dark:bg-slate-800" data-testid="heatmap-cell">
            <Select
              id="cell-x"
              label={map.x.param}
              value={selected ? String(selected.x) : ""}
              onChange={(index) => setChosen({ x: Number(index), y: selected?.y ?? 0 })}
            >
              {!selected && <option value="">—</option>}
              {map.x.values.map((item, index) => (
                <option key={index} value={index}>
                  {axisLabel(item)}
                </option>
              ))}
            </Select>
            <Select
              id="cell-y"
              label={map.y.param}
              value={selected ? String(selected.y) : ""}
              onChange={(index) => setChosen({ x: selected?.x ?? 0, y: Number(index) })}
            >
              {!selected && <option value="">—</option>}
              {map.y.values.map((item, index) => (
                <option key={index} value={index}>
                  {axisLabel(item)}
                </option>
              ))}
            </Select>
            <p className="tabular mb-1.5 min-w-0 flex-1 text-sm" data-testid="cell-value">
              {selected ? (
                <>
                  {label}: <strong>{formatObjective(objective, value)}</strong>
                  {best && selected.x === best.x && selected.y === best.y ? " ★ best" : ""}
                  {value === null ? " (no result for this cell)" : ""}
                </>
              ) : (
                "Choose a cell"
              )}
            </p>
            <Button variant="primary" disabled={!params || backtesting} onClick={() => params && onBacktest(params)} data-testid="cell-backtest">
              {backtesting ? "Launching…" : "Backtest these params"}
            </Button>
          </div>
        </>
      )}
    </Card>
  );
}
