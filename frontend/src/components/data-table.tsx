"use client";
// A sortable table of rows (TanStack Table), for trades, runs, strategies and sweep results.

import {
  type ColumnDef,
  flexRender,
  getCoreRowModel,
  getSortedRowModel,
  type SortingState,
  useReactTable,
} from "@tanstack/react-table";
import { useState } from "react";

export function DataTable<T>({ rows, columns, onRowClick, initialSort = [], caption, rowTestId }: {
  rows: T[];
  columns: ColumnDef<T, unknown>[];
  onRowClick?: (row: T) => void;
  initialSort?: SortingState;
  caption?: string;
  rowTestId?: string;
}) {
  const [sorting, setSorting] = useState<SortingState>(initialSort);
  const table = useReactTable({
    data: rows,
    columns,
    state: { sorting },
    onSortingChange: setSorting,
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
  });
  return (
    <div className="overflow-x-auto">
      <table className="w-full border-collapse text-sm">
        {caption && <caption className="sr-only">{caption}</caption>}
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id} className="border-b border-slate-200 dark:border-slate-700">
              {group.headers.map((header) => {
                const sorted = header.column.getIsSorted();
                const sortable = header.column.getCanSort();
                return (
                  <th
                    key={header.id}
                    scope="col"
                    aria-sort={sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : undefined}
                    className="px-2 py-2 text-left text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400"
                  >
                    {sortable ? (
                      <button type="button" onClick={header.column.getToggleSortingHandler()} className="uppercase hover:text-slate-900 dark:hover:text-white">
                        {flexRender(header.column.columnDef.header, header.getContext())}
                        {sorted === "asc" ? " ▲" : sorted === "desc" ? " ▼" : ""}
                      </button>
                    ) : (
                      flexRender(header.column.columnDef.header, header.getContext())
                    )}
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {table.getRowModel().rows.map((row) => (
            <tr
              key={row.id}
              data-testid={rowTestId}
              onClick={onRowClick ? () => onRowClick(row.original) : undefined}
              onKeyDown={onRowClick ? (event) => event.key === "Enter" && onRowClick(row.original) : undefined}
              tabIndex={onRowClick ? 0 : undefined}
              className={`border-b border-slate-100 dark:border-slate-800 ${onRowClick ? "cursor-pointer hover:bg-slate-50 focus:bg-sky-50 dark:hover:bg-slate-800 dark:focus:bg-slate-800" : ""}`}
            >
              {row.getVisibleCells().map((cell) => (
                <td key={cell.id} className="tabular px-2 py-1.5 whitespace-nowrap">
                  {flexRender(cell.column.columnDef.cell, cell.getContext())}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
