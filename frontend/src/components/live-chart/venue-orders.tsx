"use client";
// The orders the strategy sent to the venue (the order ledger), newest candle first: what was asked, what the venue
// executed and charged; a row opens to each state the order went through and its fills by the venue's trade id.

import { Fragment, type ReactNode, useId, useState } from "react";

import { quoteCurrency } from "@/components/live/model";
import { Badge, Card, EmptyState, ErrorNotice, Skeleton } from "@/components/ui";
import { formatPrice, formatQuantity, formatTime, type TimeZoneChoice } from "@/lib/format";

import { reasonLabel } from "./model";
import { executedSize, feesText, outcomeOf, requestedSize, stateBadge, type VenueOrder } from "./orders";
import type { OrderPage } from "./queries";

const COLUMNS = ["Candle", "Symbol", "Side", "State", "Requested", "Executed", "Avg price", "Fees", "Venue order"];
const th = "px-2 py-2 text-left text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400";
const td = "tabular px-2 py-1.5 whitespace-nowrap";

function OrderDetails({ order, zone }: { order: VenueOrder; zone: TimeZoneChoice }) {
  const outcome = outcomeOf(order);
  const facts: [string, ReactNode][] = [
    ["Client order id", <code key="id" className="text-xs">{order.client_order_id}</code>],
    ["For", reasonLabel(order.reason) || "—"],
    ["Expected price", formatPrice(order.price)],
    ["Engine size", formatQuantity(order.size)],
    ["Venue status", outcome?.venue_status ?? "—"],
    ["Net to the account", formatQuantity(outcome?.executed)],
  ];
  if (outcome?.code) facts.push(["Venue code", String(outcome.code)]);
  return (
    <div className="grid gap-4 py-2 text-sm md:grid-cols-[24rem_minmax(0,1fr)_minmax(0,1.2fr)]">
      <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1">
        {facts.map(([label, value]) => (
          <Fragment key={label}>
            <dt className="text-slate-500 dark:text-slate-400">{label}</dt>
            <dd className="tabular min-w-0 break-all">{value}</dd>
          </Fragment>
        ))}
      </dl>
      <div>
        <h3 className="mb-1 text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400">History</h3>
        <ol className="flex flex-col gap-1" data-testid="order-history">
          {order.history.map((step, index) => (
            <li key={index} className="flex flex-wrap items-baseline gap-2">
              <Badge tone={stateBadge(step.state).tone}>{stateBadge(step.state).label}</Badge>
              <span className="tabular text-xs text-slate-600 dark:text-slate-300">{formatTime(Date.parse(step.at), zone)}</span>
              {step.detail ? <span className="text-xs">{step.detail}</span> : null}
            </li>
          ))}
          {order.adopted ? <li className="text-xs text-slate-600 dark:text-slate-300">Found on the venue by the reconciliation, not booked as sent.</li> : null}
        </ol>
      </div>
      <div>
        <h3 className="mb-1 text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400">Fills</h3>
        {order.fills.length === 0 ? (
          <p className="text-xs text-slate-600 dark:text-slate-300">None.</p>
        ) : (
          <table className="w-full text-xs whitespace-nowrap" data-testid="order-fills">
            <thead>
              <tr>
                {["Trade id", "Price", "Quantity", "Fee"].map((label) => (
                  <th key={label} className="py-1 pr-3 text-left font-semibold text-slate-500 dark:text-slate-400">{label}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {order.fills.map((fill) => (
                <tr key={fill.trade_id} className="tabular">
                  <td className="py-0.5 pr-3">{fill.trade_id}</td>
                  <td className="py-0.5 pr-3">{formatPrice(fill.price)}</td>
                  <td className="py-0.5 pr-3">{formatQuantity(fill.quantity)}</td>
                  <td className="py-0.5 pr-3">{formatQuantity(fill.fee)} {fill.fee_asset}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}

function OrderRow({ order, zone }: { order: VenueOrder; zone: TimeZoneChoice }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const outcome = outcomeOf(order);
  const state = stateBadge(order.state);
  return (
    <>
      <tr data-testid="venue-order" data-state={order.state} className="border-b border-slate-100 dark:border-slate-800">
        <td className={td}>
          <button
            type="button"
            aria-expanded={open}
            aria-controls={`${id}-details`}
            onClick={() => setOpen((shown) => !shown)}
            className="flex items-center gap-1.5 text-left hover:text-sky-700 dark:hover:text-sky-400"
          >
            <span aria-hidden className="inline-block w-3 text-slate-500">{open ? "▾" : "▸"}</span>
            {formatTime(order.ts, zone, false)}
          </button>
        </td>
        <td className={td}>{order.symbol}</td>
        <td className={td}>
          <Badge tone={order.side === "buy" ? "green" : "red"}>{order.side}</Badge>
        </td>
        <td className={td}>
          <Badge tone={state.tone}>{state.label}</Badge>
          {order.adopted ? <span className="ml-1 text-xs text-slate-500 dark:text-slate-400">adopted</span> : null}
        </td>
        <td className={td}>{formatQuantity(requestedSize(order))}</td>
        <td className={td}>{formatQuantity(executedSize(order))}</td>
        <td className={td}>{formatPrice(outcome?.average_price)}</td>
        <td className={td} data-testid="venue-order-fees">{feesText(order, quoteCurrency([order.symbol]))}</td>
        <td className={`${td} font-mono text-xs`}>{outcome?.venue_order_id ?? "—"}</td>
      </tr>
      {open ? (
        <tr id={`${id}-details`} data-testid="venue-order-details" className="border-b border-slate-100 bg-slate-50 dark:border-slate-800 dark:bg-slate-950">
          <td colSpan={COLUMNS.length} className="px-3">
            <OrderDetails order={order} zone={zone} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

/** Shown while the strategy trades live or has venue orders; a paper strategy has none, so nothing shows. */
export function VenueOrdersCard({ query, live, zone }: {
  query: { data?: OrderPage; error: unknown; isPending: boolean };
  live: boolean;
  zone: TimeZoneChoice;
}) {
  const page = query.data;
  if (!live && !page?.total) return null;
  return (
    <Card title="Venue orders">
      {query.isPending ? (
        <Skeleton className="h-24" />
      ) : query.error ? (
        <ErrorNotice error={query.error} />
      ) : !page || page.items.length === 0 ? (
        <EmptyState title="No venue orders yet">Orders this strategy sends to the venue appear here, with what it executed and charged.</EmptyState>
      ) : (
        <>
          <div className="overflow-x-auto">
            <table className="w-full border-collapse text-sm" aria-label="Venue orders">
              <thead>
                <tr className="border-b border-slate-200 dark:border-slate-700">
                  {COLUMNS.map((label) => (
                    <th key={label} scope="col" className={th}>{label}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {page.items.map((order) => (
                  <OrderRow key={order.client_order_id} order={order} zone={zone} />
                ))}
              </tbody>
            </table>
          </div>
          <p className="mt-2 text-xs text-slate-500 dark:text-slate-400">
            {page.total > page.items.length ? `The newest ${page.items.length} of ${page.total}.` : `${page.total} ${page.total === 1 ? "order" : "orders"}.`} Open a row
            for its history and fills.
          </p>
        </>
      )}
    </Card>
  );
}
