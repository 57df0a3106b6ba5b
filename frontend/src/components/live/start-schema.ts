// What starting a strategy asks for: a stored strategy that is not trading, the mode (paper, or live on the venue)
// and the cash.

import { z } from "zod";

export const startSchema = z.object({
  strategyId: z.string().min(1, "Pick a strategy to start."),
  mode: z.enum(["paper", "live"], { error: "Choose paper or live." }),
  cash: z
    .number({ error: "Enter the cash each account starts with, e.g. 10000." })
    .refine(Number.isFinite, "Enter the cash each account starts with, e.g. 10000.")
    .gt(0, "Cash must be more than 0.")
    .max(1e15, "Cash must be at most 1,000,000,000,000,000."),
});

export type StartValues = z.infer<typeof startSchema>;

/** The first message per field of a parse, keyed as the form names its fields. */
export function startErrors(values: unknown): Partial<Record<keyof StartValues, string>> {
  const parsed = startSchema.safeParse(values);
  if (parsed.success) return {};
  const errors: Partial<Record<keyof StartValues, string>> = {};
  for (const issue of parsed.error.issues) {
    const field = issue.path[0] as keyof StartValues;
    errors[field] ??= issue.message;
  }
  return errors;
}
