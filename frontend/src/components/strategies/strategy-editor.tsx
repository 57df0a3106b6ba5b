"use client";
// One strategy: its spec in a JSON editor checked as you type, a form for its params, the indicators the
// spec resolves to, an indicator picker; Save (If-Match, with a conflict dialog), Backtest, Sweep, Start
// live and Delete.

import { zodResolver } from "@hookform/resolvers/zod";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useId, useMemo, useRef, useState } from "react";
import { useForm } from "react-hook-form";
import { z } from "zod";

import { useStreamEvents } from "@/components/stream-provider";
import { useToast } from "@/components/toasts";
import { Badge, Button, Card, EmptyState, ErrorNotice, Field, PageHeader, Skeleton, inputClass } from "@/components/ui";
import { ApiError, request, type ApiResponse } from "@/lib/api";
import { formatTime } from "@/lib/format";
import { useSettings } from "@/lib/settings";
import type { Backtest, Strategy } from "@/lib/types";

import { Dialog } from "./dialog";
import { IndicatorPicker } from "./indicator-picker";
import { eventStrategy, LiveBadge, liveOf, TRADING_EVENTS } from "./live-badge";
import { ParamsForm } from "./params-form";
import { SpecEditor, type SpecEditorHandle } from "./spec-editor";
import { diagnosticsFor, insertProperty, locate, parseJson, replaceValue, type SpecDiagnostic } from "./spec-json";
import { indicatorNames, paramUses, specParams, specText, TEMPLATE_TEXT } from "./spec-model";
import { useParsed, useSpecCheck, type Validation } from "./use-spec-check";

type Loaded = ApiResponse<Strategy>;

interface SaveProblem {
  text: string;
  errors: Record<string, string[]>;
}

interface Conflict {
  etag: string;
  theirs: string;
}

function versionOf(etag: string | null): string {
  return (etag ?? "").replace(/^W\//, "").replace(/"/g, "");
}

function merge(...sources: Record<string, string[]>[]): Record<string, string[]> {
  const merged: Record<string, string[]> = {};
  for (const source of sources) {
    for (const [path, messages] of Object.entries(source)) merged[path] = [...new Set([...(merged[path] ?? []), ...messages])];
  }
  return merged;
}

export function StrategyEditor({ id: routeId }: { id: string | null }) {
  const router = useRouter();
  const client = useQueryClient();
  const toast = useToast();
  const { zone } = useSettings();
  const editor = useRef<SpecEditorHandle>(null);
  const statusId = useId();

  // The strategy's id once stored (a new one gets it when first saved, without leaving the page).
  const [id, setId] = useState<string | null>(routeId);
  const loaded = useQuery({
    queryKey: ["strategy", id],
    queryFn: () => request<Strategy>(`/strategies/${id}`),
    enabled: id !== null,
  });

  // The document being edited, what was last saved, and the version that save (or the load) was.
  const [text, setText] = useState<string | null>(routeId ? null : TEMPLATE_TEXT);
  const [saved, setSaved] = useState<string>(routeId ? "" : TEMPLATE_TEXT);
  const [version, setVersion] = useState<number | null>(null);
  useEffect(() => {
    if (text === null && loaded.data) {
      const initial = specText(loaded.data.data.spec);
      setText(initial);
      setSaved(initial);
      setVersion(loaded.data.data.version ?? Number(versionOf(loaded.data.etag)));
    }
  }, [loaded.data, text]);

  const current = text ?? "";
  const parsed = useParsed(current);
  const { check, checking, lastValid } = useSpecCheck(current);
  const [saveProblem, setSaveProblem] = useState<SaveProblem | null>(null);
  const [notice, setNotice] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [picking, setPicking] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [starting, setStarting] = useState(false);
  const [busy, setBusy] = useState<"backtest" | "delete" | null>(null);
  const [selectPath, setSelectPath] = useState<string | null>(null);

  useEffect(() => {
    if (check && saveProblem && check.text !== saveProblem.text) setSaveProblem(null);
  }, [check, saveProblem]);

  // What the editor marks and the problem list shows: the latest check, with a failed save's errors.
  const shown = useMemo(() => {
    if (saveProblem) {
      return { text: saveProblem.text, errors: merge(check?.text === saveProblem.text ? check.errors : {}, saveProblem.errors), syntax: null };
    }
    return check ? { text: check.text, errors: check.errors, syntax: check.syntax } : null;
  }, [check, saveProblem]);
  const diagnostics = useMemo<SpecDiagnostic[]>(() => {
    if (!shown) return [];
    if (shown.syntax) return [{ ...shown.syntax, severity: "error", path: "" }];
    const tree = parseJson(shown.text);
    return tree.ok ? diagnosticsFor(shown.text, tree.root, shown.errors) : [];
  }, [shown]);

  // After an outside edit (a new indicator), select what was written.
  useEffect(() => {
    if (!selectPath || !parsed.ok) return;
    const found = locate(parsed.root, selectPath);
    if (found.exact && found.prop) editor.current?.select(found.prop.keyFrom, found.node.to);
    setSelectPath(null);
  }, [selectPath, parsed]);

  // Leaving (a reload, closing the tab, another address) with unsaved edits asks first.
  const unsaved = text !== null && text !== saved;
  useEffect(() => {
    if (!unsaved) return;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [unsaved]);

  const stored = loaded.data?.data;
  const live = liveOf(stored);
  useStreamEvents(TRADING_EVENTS, (event) => {
    if (id && eventStrategy(event) === id && !live) void client.invalidateQueries({ queryKey: ["strategy", id] });
  });

  const spec = parsed.ok ? parsed.value : null;
  const params = useMemo(() => specParams(spec), [spec]);
  const uses = useMemo(() => Object.fromEntries(Object.keys(params ?? {}).map((name) => [name, paramUses(spec, name)])), [spec, params]);
  const taken = useMemo(() => indicatorNames(spec), [spec]);
  const currentErrors = shown && shown.text === current ? shown.errors : check?.errors ?? {};
  const dirty = unsaved;
  const docName = spec && typeof (spec as { name?: unknown }).name === "string" ? ((spec as { name: string }).name || null) : null;

  if (id && text === null) {
    if (loaded.error) {
      const missing = loaded.error instanceof ApiError && loaded.error.status === 404;
      return (
        <>
          <PageHeader title="Strategy" />
          {missing ? (
            <EmptyState title="No strategy has this id">
              It may have been deleted. <Link href="/strategies" className="text-sky-700 underline dark:text-sky-400">Back to the strategies</Link>
            </EmptyState>
          ) : (
            <ErrorNotice error={loaded.error} />
          )}
        </>
      );
    }
    return (
      <div aria-busy="true" aria-label="Loading the strategy">
        <Skeleton className="mb-6 h-10 w-1/3" />
        <div className="grid gap-4 lg:grid-cols-[minmax(0,1fr)_22rem]">
          <Skeleton className="h-[36rem]" />
          <Skeleton className="h-[36rem]" />
        </div>
      </div>
    );
  }

  function editParam(name: string, value: number) {
    setText((before) => {
      if (before === null) return before;
      const tree = parseJson(before);
      return tree.ok ? (replaceValue(before, tree.root, `params.${name}`, String(value)) ?? before) : before;
    });
  }

  function insertIndicator(name: string, entry: unknown) {
    setText((before) => {
      if (before === null) return before;
      const tree = parseJson(before);
      if (!tree.ok) return before;
      const into = locate(tree.root, "indicators");
      const changed = into.exact ? insertProperty(before, tree.root, "indicators", name, entry) : insertProperty(before, tree.root, "", "indicators", { [name]: entry });
      return changed ?? before;
    });
    setSelectPath(`indicators.${name}`);
    setPicking(false);
  }

  async function save(ifMatch?: string) {
    if (!parsed.ok) {
      setNotice(new Error(`Fix the JSON first: ${parsed.error.message}.`));
      editor.current?.select(parsed.error.from, parsed.error.to);
      return;
    }
    const sent = current;
    setSaving(true);
    setNotice(null);
    try {
      if (id === null) {
        const answer = await request<Strategy>("/strategies", { method: "POST", body: parsed.value });
        const created = answer.data;
        client.setQueryData(["strategy", created.id], answer);
        setId(created.id ?? null);
        setVersion(created.version ?? 1);
        setSaved(sent);
        // The same page goes on editing it, at its own address (the app router keeps up with replaceState).
        window.history.replaceState(null, "", `/strategies/${created.id}`);
        toast({ tone: "success", title: "Strategy created", body: `${created.name} is saved as version ${created.version}.` });
      } else {
        const answer = await request<Strategy>(`/strategies/${id}`, {
          method: "PUT",
          body: parsed.value,
          headers: { "If-Match": ifMatch ?? `"${version}"` },
        });
        client.setQueryData(["strategy", id], answer);
        setVersion(answer.data.version ?? null);
        setSaved(sent);
        toast({ tone: "success", title: "Strategy saved", body: `${answer.data.name} is now version ${answer.data.version}.` });
      }
      setSaveProblem(null);
      void client.invalidateQueries({ queryKey: ["strategies"] });
    } catch (error) {
      if (error instanceof ApiError && error.status === 412) {
        setConflict({ etag: error.etag ?? "*", theirs: versionOf(error.etag) });
      } else if (error instanceof ApiError && error.status === 422) {
        const errors = error.fieldErrors();
        setSaveProblem({ text: sent, errors: Object.keys(errors).length ? errors : { "": [error.message] } });
        setNotice(new Error(`Not saved: ${error.message} The problems are marked in the JSON and listed beside it.`));
      } else if (error instanceof ApiError && error.status === 409 && stored?.live) {
        // A live strategy is not written to; the API's message says how to stop it first.
        setNotice(new Error(`Not saved: ${error.message}`));
      } else if (error instanceof ApiError && error.status === 409) {
        setSaveProblem({ text: sent, errors: { name: [error.message] } });
        setNotice(new Error(`Not saved: ${error.message}. Choose another name.`));
      } else {
        setNotice(error);
      }
    } finally {
      setSaving(false);
    }
  }

  async function reloadTheirs() {
    if (!id) return;
    setNotice(null);
    try {
      const answer = await request<Strategy>(`/strategies/${id}`);
      client.setQueryData(["strategy", id], answer);
      const theirs = specText(answer.data.spec);
      setText(theirs);
      setSaved(theirs);
      setVersion(answer.data.version ?? null);
      setSaveProblem(null);
      setConflict(null);
      toast({ tone: "info", title: "Reloaded", body: `Showing version ${answer.data.version}; your edits were dropped.` });
    } catch (error) {
      setConflict(null);
      setNotice(error);
    }
  }

  async function backtest() {
    if (!id) return;
    setBusy("backtest");
    setNotice(null);
    try {
      const run = await request<Backtest>("/backtests", { method: "POST", body: { strategy_id: id } });
      router.push(`/backtests/${run.data.id}`);
    } catch (error) {
      setNotice(error);
      setBusy(null);
    }
  }

  async function remove() {
    if (!id) return;
    setBusy("delete");
    try {
      await request(`/strategies/${id}`, { method: "DELETE" });
      client.removeQueries({ queryKey: ["strategy", id] });
      void client.invalidateQueries({ queryKey: ["strategies"] });
      toast({ tone: "success", title: "Strategy deleted", body: `${stored?.name ?? docName ?? "The strategy"} is gone.` });
      router.push("/strategies");
    } catch (error) {
      setDeleting(false);
      setBusy(null);
      setNotice(error);
    }
  }

  const savedRuns = id !== null && !dirty;
  const runHint = id === null ? "Save the strategy to backtest, sweep or trade it." : dirty ? `Backtests, sweeps and live trading use the saved version ${version}: save your changes first.` : null;
  const status = checking
    ? { tone: "slate" as const, text: "Checking…" }
    : !check
      ? { tone: "slate" as const, text: "" }
      : check.state === "valid"
        ? { tone: "green" as const, text: `Valid · warm-up ${check.result?.warmup_bars ?? 0} bars` }
        : check.state === "syntax"
          ? { tone: "red" as const, text: "JSON syntax error" }
          : check.state === "failed"
            ? { tone: "amber" as const, text: `Could not check: ${check.failure}` }
            : { tone: "red" as const, text: `${diagnostics.length} problem${diagnostics.length === 1 ? "" : "s"}` };

  return (
    <>
      <PageHeader
        title={
          <span className="flex flex-wrap items-center gap-3">
            <span>{docName ?? stored?.name ?? "New strategy"}</span>
            <LiveBadge live={live} />
          </span>
        }
        subtitle={
          <span data-testid="strategy-state">
            {id === null ? "New strategy, not saved yet" : `Version ${version}`}
            {id !== null && stored?.updated_at && !dirty ? ` · saved ${formatTime(Date.parse(stored.updated_at), zone, false)}` : ""}
            {id !== null && dirty ? " · unsaved changes" : ""}
          </span>
        }
        actions={
          <>
            <Button variant="primary" onClick={() => void save()} disabled={saving || (id !== null && !dirty)} aria-keyshortcuts="Control+S">
              {saving ? "Saving…" : id === null ? "Create strategy" : "Save"}
            </Button>
            <Button onClick={() => void backtest()} disabled={!savedRuns || busy !== null}>
              {busy === "backtest" ? "Queueing…" : "Backtest"}
            </Button>
            <Button onClick={() => router.push(`/sweeps/new?strategy_id=${id}`)} disabled={!savedRuns}>
              Sweep
            </Button>
            {!live && (
              <Button onClick={() => setStarting(true)} disabled={!savedRuns}>
                Start live
              </Button>
            )}
            {id !== null && (
              <Button variant="danger" onClick={() => setDeleting(true)} disabled={busy !== null}>
                Delete
              </Button>
            )}
          </>
        }
      />
      {live && (
        <p className="-mt-4 mb-4 text-sm">
          <LiveBadge live={live} detailed />{" "}
          <Link href="/live" className="ml-2 text-sky-700 hover:underline dark:text-sky-400">
            See it on Live
          </Link>
        </p>
      )}
      {runHint && <p className="-mt-4 mb-4 text-sm text-slate-600 dark:text-slate-400">{runHint}</p>}
      {notice ? (
        <div className="mb-4">
          <ErrorNotice error={notice} />
        </div>
      ) : null}

      <div className="grid items-start gap-4 lg:grid-cols-[minmax(0,1fr)_22rem]">
        <section aria-label="Spec" className="min-w-0">
          <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
            <h2 className="text-base font-semibold">Spec (JSON)</h2>
            <div className="flex items-center gap-3">
              <span id={statusId} role="status" data-testid="check-status" className="text-sm">
                {status.text && <Badge tone={status.tone}>{status.text}</Badge>}
              </span>
              <Button onClick={() => setPicking(true)} disabled={!parsed.ok} title={parsed.ok ? undefined : "Fix the JSON syntax first"}>
                Add indicator
              </Button>
            </div>
          </div>
          <SpecEditor
            ref={editor}
            value={current}
            onChange={setText}
            diagnostics={diagnostics}
            diagnosticsText={shown?.text ?? null}
            label="Strategy spec (JSON)"
            describedBy={statusId}
            onSave={() => void save()}
          />
          <p className="mt-2 text-xs text-slate-500 dark:text-slate-400">
            Checked as you type. Fields, rules and sizing are described in docs/strategy-spec.md. Ctrl+S saves; Ctrl+F searches; Tab leaves the editor.
          </p>
        </section>

        <div className="flex min-w-0 flex-col gap-4">
          <ProblemList diagnostics={diagnostics} stale={!shown || shown.text !== current} onPick={(problem) => editor.current?.select(problem.from, problem.to)} />
          <Card title="Params">
            <ParamsForm
              params={params}
              uses={uses}
              errors={currentErrors}
              onChange={editParam}
              disabledReason={!parsed.ok ? "Fix the JSON syntax error to edit the params here." : params === null ? '"params" must be an object of numbers.' : null}
            />
          </Card>
          <ResolvedIndicators result={check?.state === "valid" ? check.result : lastValid} current={check?.state === "valid" && !checking} onAdd={() => setPicking(true)} canAdd={parsed.ok} />
        </div>
      </div>

      <IndicatorPicker open={picking} onClose={() => setPicking(false)} taken={taken} onInsert={insertIndicator} />

      <Dialog
        open={conflict !== null}
        onClose={() => setConflict(null)}
        title="This strategy changed meanwhile"
        testId="conflict-dialog"
        description={
          <>
            Someone saved version {conflict?.theirs} after you loaded version {version}. Reload theirs and drop your edits, or overwrite it with
            yours.
          </>
        }
      >
        <div className="flex flex-wrap justify-end gap-2">
          <Button onClick={() => setConflict(null)}>Cancel</Button>
          <Button onClick={() => void reloadTheirs()}>Reload theirs</Button>
          <Button
            variant="danger"
            onClick={() => {
              const etag = conflict?.etag;
              setConflict(null);
              void save(etag);
            }}
          >
            Overwrite
          </Button>
        </div>
      </Dialog>

      <Dialog
        open={deleting}
        onClose={() => setDeleting(false)}
        title="Delete this strategy?"
        testId="delete-dialog"
        description={
          <>
            <strong>{stored?.name ?? docName}</strong> goes for good. Its backtests and sweeps stay.
            {live ? " It trades live: stop it on the Live page first, or its positions stay open without it." : ""}
          </>
        }
      >
        <div className="flex justify-end gap-2">
          <Button onClick={() => setDeleting(false)} autoFocus>
            Keep it
          </Button>
          <Button variant="danger" onClick={() => void remove()} disabled={busy === "delete"}>
            {busy === "delete" ? "Deleting…" : "Delete strategy"}
          </Button>
        </div>
      </Dialog>

      {id && (
        <StartLiveDialog
          open={starting}
          id={id}
          name={stored?.name ?? docName ?? ""}
          onClose={() => setStarting(false)}
          onStarted={() => {
            void client.invalidateQueries({ queryKey: ["strategies"] });
            void client.invalidateQueries({ queryKey: ["strategy", id] });
            router.push("/live");
          }}
        />
      )}
    </>
  );
}

function ProblemList({ diagnostics, stale, onPick }: { diagnostics: SpecDiagnostic[]; stale: boolean; onPick: (problem: SpecDiagnostic) => void }) {
  if (!diagnostics.length) return null;
  return (
    <Card title={`Problems (${diagnostics.length})`} className="border-rose-300 dark:border-rose-900">
      {stale && <p className="mb-1 text-xs text-slate-600 dark:text-slate-400">As of the last check; checking your changes…</p>}
      <ul className="flex max-h-64 flex-col gap-1 overflow-y-auto text-sm" data-testid="problems" aria-label="Problems in the spec">
        {diagnostics.map((problem, index) => (
          <li key={`${problem.from}-${index}`}>
            <button
              type="button"
              onClick={() => onPick(problem)}
              className="w-full rounded px-1 py-0.5 text-left hover:bg-rose-50 focus:bg-rose-50 dark:hover:bg-rose-950 dark:focus:bg-rose-950"
            >
              <span className="font-mono text-xs text-rose-700 dark:text-rose-300">{problem.path || "(document)"}</span>
              <ProblemMessage text={problem.path ? problem.message.slice(problem.path.length + 2) : problem.message} />
            </button>
          </li>
        ))}
      </ul>
    </Card>
  );
}

/** A message; a rule's comes with its text and a caret under the spot, which need a fixed-width font to line up. */
function ProblemMessage({ text }: { text: string }) {
  const [first, ...rest] = text.split("\n");
  return (
    <>
      <span className="block break-words">{first}</span>
      {rest.length > 0 && <span className="block overflow-x-auto font-mono text-xs whitespace-pre text-slate-600 dark:text-slate-300">{rest.join("\n")}</span>}
    </>
  );
}

function ResolvedIndicators({ result, current, onAdd, canAdd }: { result: Validation | null; current: boolean; onAdd: () => void; canAdd: boolean }) {
  const entries = Object.entries(result?.indicators ?? {});
  return (
    <Card
      title="Indicators"
      actions={
        <Button onClick={onAdd} disabled={!canAdd} className="text-xs">
          Add…
        </Button>
      }
    >
      {!result ? (
        <p className="text-sm text-slate-600 dark:text-slate-400">Shown once the spec is valid.</p>
      ) : (
        <div>
          <p className="mb-2 text-sm">
            Warm-up: <span className="tabular font-medium" data-testid="warmup">{result.warmup_bars} bars</span>
            {!current && <span className="ml-1 text-xs text-slate-600 dark:text-slate-400">(of the last valid spec)</span>}
          </p>
          {entries.length ? (
            <ul className="flex flex-col gap-2 text-sm" data-testid="resolved-indicators">
              {entries.map(([name, indicator]) => (
                <li key={name} className="rounded-md border border-slate-200 px-2 py-1.5 dark:border-slate-700">
                  <div className="flex items-center justify-between gap-2">
                    <span className="truncate font-mono font-medium">{name}</span>
                    <Badge tone={indicator.pane === "price" ? "sky" : "amber"}>{indicator.pane === "price" ? "price pane" : "own pane"}</Badge>
                  </div>
                  <p className="font-mono text-xs text-slate-600 dark:text-slate-400">
                    {indicator.function}({Object.entries(indicator.params).map(([key, value]) => `${key}=${value}`).join(", ")})
                  </p>
                  <p className="text-xs text-slate-500 dark:text-slate-400">
                    {indicator.lookback} bar{indicator.lookback === 1 ? "" : "s"} lookback
                    {indicator.series.length > 1 || indicator.series[0] !== name ? ` · ${indicator.series.join(", ")}` : ""}
                  </p>
                </li>
              ))}
            </ul>
          ) : (
            <p className="text-sm text-slate-600 dark:text-slate-400">None: rules read only prices. Add one from TA-Lib&apos;s catalogue.</p>
          )}
        </div>
      )}
    </Card>
  );
}

const startSchema = z.object({
  cash: z
    .string()
    .trim()
    .min(1, "Enter the cash to start with.")
    .refine((text) => Number.isFinite(Number(text)) && Number(text) > 0, "Enter an amount above 0."),
});

function StartLiveDialog({ open, id, name, onClose, onStarted }: { open: boolean; id: string; name: string; onClose: () => void; onStarted: () => void }) {
  const [failure, setFailure] = useState<unknown>(null);
  const form = useForm<z.infer<typeof startSchema>>({ resolver: zodResolver(startSchema), defaultValues: { cash: "10000" } });
  const { register, handleSubmit, formState, setError } = form;

  async function start(values: z.infer<typeof startSchema>) {
    setFailure(null);
    try {
      await request(`/strategies/${id}/start`, { method: "POST", body: { mode: "paper", cash: Number(values.cash) } });
      onStarted();
    } catch (error) {
      const fields = error instanceof ApiError ? error.fieldErrors() : {};
      if (fields.cash) setError("cash", { message: fields.cash.join(" ") });
      else setFailure(error);
    }
  }

  return (
    <Dialog open={open} onClose={onClose} title="Start live trading" testId="start-dialog"
      description={<>Paper trading: <strong>{name}</strong> trades the live feed with simulated orders, each of its symbols with its own account.</>}>
      <form onSubmit={handleSubmit(start)} noValidate className="flex flex-col gap-4">
        <Field label="Cash per symbol (quote currency)" htmlFor="start-cash" error={formState.errors.cash?.message} hint="What each account starts its run with.">
          <input id="start-cash" inputMode="decimal" autoComplete="off" aria-invalid={formState.errors.cash ? true : undefined} className={`${inputClass} tabular`} {...register("cash")} />
        </Field>
        {failure ? <ErrorNotice error={failure} /> : null}
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={formState.isSubmitting}>
            {formState.isSubmitting ? "Starting…" : "Start paper trading"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
