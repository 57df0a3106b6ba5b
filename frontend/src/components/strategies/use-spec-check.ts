"use client";
// Check the spec as the user types: a moment after the last keystroke, parse the JSON here (a syntax
// error needs no server), then ask POST /strategies/validate; each answer carries the text it is about.

import { useEffect, useMemo, useState } from "react";

import { ApiError, request } from "@/lib/api";
import type { Schemas } from "@/lib/types";

import { parseJson, type JsonNode, type JsonSyntaxError } from "./spec-json";

export type Validation = Schemas["Validation"];

export interface SpecCheck {
  /** The text this check is about. */
  text: string;
  state: "valid" | "invalid" | "syntax" | "failed";
  /** The API's errors by path (state "invalid"). */
  errors: Record<string, string[]>;
  syntax: JsonSyntaxError | null;
  result: Validation | null;
  /** Why the API could not check it (state "failed"). */
  failure: string | null;
}

export const CHECK_DELAY_MS = 400;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The parsed text, kept in step with it (for the form, the picker and Save). */
export function useParsed(text: string): { ok: true; root: JsonNode; value: unknown } | { ok: false; error: JsonSyntaxError } {
  return useMemo(() => parseJson(text), [text]);
}

export function useSpecCheck(text: string): { check: SpecCheck | null; checking: boolean; lastValid: Validation | null } {
  const [check, setCheck] = useState<SpecCheck | null>(null);
  const [lastValid, setLastValid] = useState<Validation | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    const timer = window.setTimeout(async () => {
      const parsed = parseJson(text);
      const base = { text, errors: {}, syntax: null, result: null, failure: null };
      if (!parsed.ok) {
        setCheck({ ...base, state: "syntax", syntax: parsed.error });
        return;
      }
      if (!isObject(parsed.value)) {
        setCheck({ ...base, state: "invalid", errors: { "": ["a strategy spec is a JSON object: { ... }"] } });
        return;
      }
      try {
        const { data } = await request<Validation>("/strategies/validate", { method: "POST", body: parsed.value, signal: controller.signal });
        setCheck({ ...base, state: "valid", result: data });
        setLastValid(data);
      } catch (error) {
        if (controller.signal.aborted) return;
        if (error instanceof ApiError && error.status === 422) {
          const errors = error.fieldErrors();
          setCheck({ ...base, state: "invalid", errors: Object.keys(errors).length ? errors : { "": [error.message] } });
        } else {
          const message = error instanceof Error ? error.message : String(error);
          setCheck({ ...base, state: "failed", failure: message });
        }
      }
    }, CHECK_DELAY_MS);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [text]);

  return { check, checking: check?.text !== text, lastValid };
}
