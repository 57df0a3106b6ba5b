"use client";
// Import a CSV file of candles into a symbol and timeframe: the import summary, or the API's line-numbered error at the file.

import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { z } from "zod";

import { Button, ErrorNotice, Field, inputClass } from "@/components/ui";
import { ApiError, request } from "@/lib/api";
import { formatNumber, formatTime } from "@/lib/format";
import { useSettings } from "@/lib/settings";

import { guessFromFileName, type ImportSummary, summaryCounts, TIMEFRAMES } from "./candles";
import { SERIES_KEY } from "./queries";

const schema = z.object({
  file: z.custom<FileList>((value) => typeof FileList !== "undefined" && value instanceof FileList && value.length > 0, "Choose a CSV file"),
  symbol: z
    .string()
    .trim()
    .min(1, "Enter the symbol the candles are of")
    .regex(/^[A-Za-z0-9._-]{1,30}$/, "Letters, digits, '.', '_' and '-' only, at most 30"),
  timeframe: z.enum(TIMEFRAMES, { error: "Choose a timeframe" }),
});

type UploadValues = z.infer<typeof schema>;

export function UploadForm({ onImported }: { onImported: (symbol: string, timeframe: string) => void }) {
  const { zone } = useSettings();
  const queryClient = useQueryClient();
  const [summary, setSummary] = useState<{ summary: ImportSummary; created: boolean; file: string } | null>(null);
  const [problem, setProblem] = useState<unknown>(null);
  const { register, handleSubmit, formState, setError, setValue, getValues } = useForm<UploadValues>({
    resolver: zodResolver(schema),
    defaultValues: { symbol: "", timeframe: "1h" },
  });
  const errors = formState.errors;

  const upload = useMutation({
    mutationFn: async (values: UploadValues) => {
      const body = new FormData();
      body.append("file", values.file[0]);
      const symbol = values.symbol.trim().toUpperCase();
      const answer = await request<ImportSummary>(`/candles/${encodeURIComponent(symbol)}/${values.timeframe}`, { method: "POST", body });
      return { summary: answer.data, created: answer.status === 201, file: values.file[0].name };
    },
    onSuccess: (result) => {
      setSummary(result);
      void queryClient.invalidateQueries({ queryKey: SERIES_KEY });
      void queryClient.invalidateQueries({ queryKey: ["candles", "preview", result.summary.symbol, result.summary.timeframe] });
      if (result.summary.symbol && result.summary.timeframe) onImported(result.summary.symbol, result.summary.timeframe);
    },
    onError: (error) => {
      if (error instanceof ApiError && error.status === 422) {
        // The file's problems are under files.file (a path location and "body" are not fieldErrors' kinds).
        const fileErrors = [...(error.fieldErrors("files").file ?? []), ...(error.body.errors?.body?.csv ?? [])];
        const path = error.body.errors?.path ?? {};
        if (fileErrors.length) setError("file", { type: "server", message: fileErrors.join("; ") }, { shouldFocus: true });
        if (path.symbol) setError("symbol", { type: "server", message: path.symbol.join("; ") });
        if (path.timeframe) setError("timeframe", { type: "server", message: path.timeframe.join("; ") });
        if (fileErrors.length || path.symbol || path.timeframe) return;
      }
      setProblem(error instanceof ApiError && error.status === 413 ? new Error("The file is larger than the API accepts (MAX_UPLOAD_MB).") : error);
    },
  });

  const submit = handleSubmit((values) => {
    setSummary(null);
    setProblem(null);
    upload.mutate(values);
  });

  const fileField = register("file", {
    onChange: (event: { target: HTMLInputElement }) => {
      const name = event.target.files?.[0]?.name;
      if (!name) return;
      const guess = guessFromFileName(name);
      if (guess.symbol && !getValues("symbol")) setValue("symbol", guess.symbol);
      if (guess.timeframe) setValue("timeframe", guess.timeframe as UploadValues["timeframe"]);
    },
  });
  const described = (field: string, error: unknown) => (error ? { "aria-invalid": true as const, "aria-describedby": `${field}-error` } : {});

  return (
    // Its fields in a row when the card is wide (container query), stacked when it is narrow.
    <form onSubmit={submit} noValidate aria-label="Import candles" className="@container flex flex-col gap-4">
      <div className="grid gap-4 @2xl:grid-cols-[minmax(0,2fr)_minmax(0,1fr)_minmax(0,1fr)] @2xl:items-start">
        <Field
          label="CSV file"
          htmlFor="file"
          error={errors.file?.message}
          hint="A header row naming timestamp, open, high, low, close, volume; times in ISO-8601 or epoch seconds or ms, UTC."
        >
          <input
            id="file"
            type="file"
            accept=".csv,text/csv"
            className="text-sm file:mr-3 file:rounded-md file:border file:border-slate-300 file:bg-white file:px-3 file:py-1.5 file:text-sm file:font-medium hover:file:bg-slate-100 dark:file:border-slate-600 dark:file:bg-slate-800 dark:file:text-slate-100"
            {...fileField}
            {...described("file", errors.file)}
          />
        </Field>
        <Field label="Symbol" htmlFor="upload-symbol" error={errors.symbol?.message}>
          <input id="upload-symbol" className={`${inputClass} uppercase`} placeholder="BTCUSDT" autoComplete="off" {...register("symbol")} {...described("upload-symbol", errors.symbol)} />
        </Field>
        <Field label="Timeframe" htmlFor="upload-timeframe" error={errors.timeframe?.message}>
          <select id="upload-timeframe" className={inputClass} {...register("timeframe")} {...described("upload-timeframe", errors.timeframe)}>
            {TIMEFRAMES.map((timeframe) => (
              <option key={timeframe} value={timeframe}>
                {timeframe}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <div>
        <Button type="submit" variant="primary" disabled={upload.isPending}>
          {upload.isPending ? "Importing…" : "Import candles"}
        </Button>
      </div>
      {problem !== null && <ErrorNotice error={problem} />}
      {summary && (
        <div role="status" className="rounded-md border border-emerald-300 bg-emerald-50 p-3 text-sm dark:border-emerald-800 dark:bg-emerald-950" data-testid="import-summary">
          <p className="font-medium">
            Imported {summary.file} into {summary.summary.symbol} {summary.summary.timeframe}
          </p>
          <p className="mt-1">{summaryCounts(summary.summary)}.</p>
          <p className="mt-1 text-slate-600 dark:text-slate-400">
            {formatTime(summary.summary.first_ts, zone, false)} → {formatTime(summary.summary.last_ts, zone, false)} ·{" "}
            {formatNumber(summary.summary.buckets_written ?? 0, 0)} storage {summary.summary.buckets_written === 1 ? "bucket" : "buckets"} written
            {summary.created ? "" : " · nothing new"}
          </p>
        </div>
      )}
    </form>
  );
}
