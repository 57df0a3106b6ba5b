"use client";
// Start a stored strategy that is not trading: pick it, the mode (paper, or live on the venue) and each account's cash.
// A live start sends real orders, so it asks first.

import { zodResolver } from "@hookform/resolvers/zod";
import Link from "next/link";
import { useEffect, useState } from "react";
import { useForm } from "react-hook-form";
import type { z } from "zod";

import { Button, ErrorNotice, Field, inputClass } from "@/components/ui";
import { ApiError } from "@/lib/api";
import { formatMoney } from "@/lib/format";
import type { Strategy } from "@/lib/types";

import { useStart } from "./actions";
import { ConfirmDialog } from "./confirm-dialog";
import { quoteCurrency, withUnit } from "./model";
import { startSchema, type StartValues } from "./start-schema";

export function StartForm({ strategies, activeIds, onStarted }: {
  strategies: Strategy[];
  activeIds: Set<string>;
  onStarted?: (strategyId: string) => void;
}) {
  const idle = strategies.filter((strategy) => strategy.id && !activeIds.has(strategy.id) && !strategy.live?.active);
  const start = useStart();
  const form = useForm<z.input<typeof startSchema>, unknown, StartValues>({
    resolver: zodResolver(startSchema),
    defaultValues: { strategyId: "", mode: "paper", cash: 10_000 },
  });
  const { errors } = form.formState;
  const chosen = form.watch("strategyId");
  const mode = form.watch("mode");
  // A live start waiting for its confirmation.
  const [confirming, setConfirming] = useState<StartValues | null>(null);

  // A strategy that started elsewhere (another tab) leaves the choices: leave the selection too.
  useEffect(() => {
    if (chosen && !idle.some((strategy) => strategy.id === chosen)) form.setValue("strategyId", "");
  }, [chosen, idle, form]);

  function submit(values: StartValues) {
    if (values.mode !== "live") return send(values);
    start.reset(); // real orders: ask first
    setConfirming(values);
  }

  async function send(values: StartValues) {
    try {
      await start.mutateAsync({ strategyId: values.strategyId, mode: values.mode, cash: values.cash });
      form.reset({ strategyId: "", mode: "paper", cash: values.cash });
      onStarted?.(values.strategyId);
    } catch (error) {
      if (error instanceof ApiError) {
        for (const [field, messages] of Object.entries(error.fieldErrors())) {
          if (field === "cash" || field === "mode") form.setError(field, { message: messages.join(" ") });
        }
      }
    } finally {
      setConfirming(null);
    }
  }

  if (strategies.length === 0) {
    return (
      <p className="text-sm text-slate-600 dark:text-slate-400">
        No strategy is stored yet. <Link href="/strategies" className="text-sky-700 underline dark:text-sky-400">Create one</Link>, backtest it,
        then start it here, on paper first.
      </p>
    );
  }

  // Messages for the form's own fields show at them; anything else (a 409, a 503) shows under the form.
  const atFields = start.error instanceof ApiError && Object.keys(start.error.fieldErrors()).some((field) => field === "cash" || field === "mode");
  const apiError = atFields ? null : start.error;
  const live = confirming ? strategies.find((strategy) => strategy.id === confirming.strategyId) : undefined;
  const liveSymbols = (live?.spec?.symbols as string[] | undefined) ?? [];
  return (
    <form onSubmit={form.handleSubmit(submit)} noValidate aria-label="Start a strategy" className="flex flex-col gap-3">
      <div className="grid grid-cols-1 items-start gap-3 md:grid-cols-[minmax(14rem,2fr)_minmax(8rem,1fr)_minmax(10rem,1fr)_auto]">
        <Field label="Strategy" htmlFor="start-strategy" error={errors.strategyId?.message}
          hint={idle.length === 0 ? "Every stored strategy is trading." : `${idle.length} not trading`}>
          <select
            id="start-strategy"
            className={inputClass}
            aria-invalid={errors.strategyId ? true : undefined}
            aria-describedby={errors.strategyId ? "start-strategy-error" : undefined}
            {...form.register("strategyId")}
          >
            <option value="">Choose a strategy…</option>
            {idle.map((strategy) => (
              <option key={strategy.id} value={strategy.id}>
                {strategy.name} ({((strategy.spec?.symbols as string[] | undefined) ?? []).join(", ")} · {String(strategy.spec?.timeframe ?? "")})
              </option>
            ))}
          </select>
        </Field>
        <Field label="Mode" htmlFor="start-mode" error={errors.mode?.message}
          hint={mode === "live" ? "Real orders on the venue set on the server" : "Simulated fills at the next open"}>
          <select
            id="start-mode"
            className={inputClass}
            aria-invalid={errors.mode ? true : undefined}
            aria-describedby={errors.mode ? "start-mode-error" : undefined}
            {...form.register("mode")}
          >
            <option value="paper">Paper</option>
            <option value="live">Live (on the venue)</option>
          </select>
        </Field>
        <Field label="Cash per symbol" htmlFor="start-cash" error={errors.cash?.message} hint="Each symbol's account starts with it">
          <input
            id="start-cash"
            type="number"
            inputMode="decimal"
            min={0}
            step="any"
            className={`${inputClass} tabular`}
            aria-invalid={errors.cash ? true : undefined}
            aria-describedby={errors.cash ? "start-cash-error" : undefined}
            {...form.register("cash", { valueAsNumber: true })}
          />
        </Field>
        <div className="md:pt-6">
          <Button type="submit" variant="primary" disabled={start.isPending || idle.length === 0}>
            {start.isPending ? "Starting…" : "Start"}
          </Button>
        </div>
      </div>
      {apiError ? <ErrorNotice error={apiError} /> : null}
      <ConfirmDialog
        open={confirming !== null}
        title="Trade real orders?"
        confirmLabel="Start live"
        busy={start.isPending}
        onConfirm={() => confirming && void send(confirming)}
        onCancel={() => setConfirming(null)}
      >
        <p>
          <strong>{live ? live.name : confirming?.strategyId}</strong> starts live on {liveSymbols.join(", ") || "its symbols"} with{" "}
          {withUnit(formatMoney(confirming?.cash), quoteCurrency(liveSymbols))} per symbol.
        </p>
        <p className="mt-2">Its orders go to the exchange configured on the server, with the account&apos;s real funds.</p>
      </ConfirmDialog>
    </form>
  );
}
