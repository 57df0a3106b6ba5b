// The venue orders panel's words and numbers: an order's state as a badge, its size, what it executed and its fees
// as the venue charged them. Pure, unit-tested beside.

import { formatQuantity } from "@/lib/format";
import type { Schemas } from "@/lib/types";

export type VenueOrder = Schemas["Order"];
export type OrderState = VenueOrder["state"];
type Outcome = Schemas["VenueOutcome"];

type Tone = "slate" | "green" | "red" | "amber" | "sky";

const STATES: Record<OrderState, { label: string; tone: Tone }> = {
  sent: { label: "sent", tone: "sky" },
  resent: { label: "resent", tone: "sky" },
  pending: { label: "pending", tone: "sky" },
  unknown: { label: "unknown", tone: "amber" },
  filled: { label: "filled", tone: "green" },
  partial: { label: "partial", tone: "amber" },
  rejected: { label: "rejected", tone: "red" },
  not_sent: { label: "not sent", tone: "red" },
};

export function stateBadge(state: string): { label: string; tone: Tone } {
  return STATES[state as OrderState] ?? { label: state.replaceAll("_", " "), tone: "slate" };
}

/** The venue's outcome, or null before it answered (the API sends null or an empty object then). */
export function outcomeOf(order: Pick<VenueOrder, "outcome">): Outcome | null {
  const outcome = order.outcome as Outcome | null | undefined;
  return outcome && Object.keys(outcome).length ? outcome : null;
}

/** The size sent to the venue (rounded to its step), or the engine's when nothing was sent. */
export function requestedSize(order: Pick<VenueOrder, "size" | "outcome">): number {
  return outcomeOf(order)?.requested ?? order.size;
}

/** The quantity the venue traded (before a base-asset fee), or undefined while it has not said. */
export function executedSize(order: Pick<VenueOrder, "outcome">): number | undefined {
  const outcome = outcomeOf(order);
  return outcome?.gross ?? outcome?.executed;
}

/** "0.00001 BTC", "0.59 USDT + 0.001 BNB"; the quote commission when the venue listed no assets; "—" without. */
export function feesText(order: Pick<VenueOrder, "outcome">, quote: string): string {
  const outcome = outcomeOf(order);
  const fees = (outcome?.fees ?? []).filter((fee) => fee.amount);
  if (fees.length) return fees.map((fee) => `${formatQuantity(fee.amount)} ${fee.asset}`).join(" + ");
  if (outcome?.commission) return quote ? `${formatQuantity(outcome.commission)} ${quote}` : formatQuantity(outcome.commission);
  return "—";
}
