"use client";
// The spec's params as a form (react-hook-form + zod), kept in step with the JSON both ways: a valid
// number typed here is written into the document; an edit of the document shows up here.

import { zodResolver } from "@hookform/resolvers/zod";
import { useEffect, useMemo, useRef } from "react";
import { useForm, type Resolver } from "react-hook-form";
import { z } from "zod";

import { inputClass } from "@/components/ui";

type Values = Record<string, string>;

export const paramValue = z
  .string()
  .trim()
  .min(1, "Enter a number.")
  .refine((text) => /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) && Number.isFinite(Number(text)), "Enter a number, like 10 or 0.05.");

function schemaFor(names: readonly string[]) {
  return z.object(Object.fromEntries(names.map((name) => [name, paramValue])));
}

function asText(values: Record<string, number>): Values {
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [name, String(value)]));
}

export function ParamsForm({ params, uses, errors, onChange, disabledReason }: {
  /** The document's params, or null when the document cannot be read (a syntax error). */
  params: Record<string, number> | null;
  /** Where each param is used, shown under its field. */
  uses: Record<string, string[]>;
  /** The API's messages at "params.<name>". */
  errors: Record<string, string[]>;
  onChange: (name: string, value: number) => void;
  disabledReason?: string | null;
}) {
  const names = useMemo(() => Object.keys(params ?? {}), [params]);
  const key = names.join("\u0000");
  const schema = useRef(schemaFor(names));
  schema.current = schemaFor(names);
  // The fields change with the document, so the resolver reads the schema of the moment.
  const resolver: Resolver<Values> = (values, context, options) => zodResolver(schema.current)(values, context, options as never) as never;
  const form = useForm<Values>({ mode: "onChange", resolver, defaultValues: asText(params ?? {}) });
  const { register, formState, getValues, setValue, reset, watch } = form;

  // The document changed: show its values, without disturbing a field whose text already means that number.
  const shownKey = useRef(key);
  useEffect(() => {
    if (!params) return;
    if (shownKey.current !== key) {
      shownKey.current = key;
      reset(asText(params));
      return;
    }
    for (const [name, value] of Object.entries(params)) {
      const text = getValues(name);
      if (paramValue.safeParse(text ?? "").success && Number(text) === value) continue;
      if (document.activeElement?.id === `param-${name}` && !paramValue.safeParse(text ?? "").success) continue;
      setValue(name, String(value), { shouldValidate: true });
    }
  }, [params, key, getValues, setValue, reset]);

  const changed = useRef(onChange);
  changed.current = onChange;
  useEffect(() => {
    const subscription = watch((values, { name, type }) => {
      if (type !== "change" || !name) return;
      const parsed = paramValue.safeParse(values[name] ?? "");
      if (parsed.success) changed.current(name, Number(parsed.data));
    });
    return () => subscription.unsubscribe();
  }, [watch]);

  if (disabledReason) return <p className="text-sm text-slate-600 dark:text-slate-400">{disabledReason}</p>;
  if (!names.length) {
    return (
      <p className="text-sm text-slate-600 dark:text-slate-400">
        No params. Add numbers under <code className="font-mono">&quot;params&quot;</code> in the JSON (e.g. <code className="font-mono">&quot;fast&quot;: 10</code>) and use
        them as <code className="font-mono">&quot;$fast&quot;</code>: a sweep can then vary them.
      </p>
    );
  }
  return (
    <form noValidate onSubmit={(event) => event.preventDefault()} aria-label="Params" className="grid grid-cols-2 gap-3">
      {names.map((name) => {
        const id = `param-${name}`;
        const message = formState.errors[name]?.message ?? errors[`params.${name}`]?.join(" ");
        const used = uses[name] ?? [];
        return (
          <div key={name} className="flex min-w-0 flex-col gap-1">
            <label htmlFor={id} className="truncate font-mono text-sm font-medium" title={name}>
              {name}
            </label>
            <input
              id={id}
              type="text"
              inputMode="decimal"
              autoComplete="off"
              spellCheck={false}
              aria-invalid={message ? true : undefined}
              aria-describedby={`${id}-note`}
              className={`${inputClass} tabular font-mono`}
              {...register(name)}
            />
            <p id={`${id}-note`} role={message ? "alert" : undefined} className={`text-xs ${message ? "text-rose-600 dark:text-rose-400" : "truncate text-slate-500 dark:text-slate-400"}`} title={message ? undefined : used.join(", ")}>
              {message ?? (used.length ? `used by ${used.join(", ")}` : "not used yet")}
            </p>
          </div>
        );
      })}
    </form>
  );
}
