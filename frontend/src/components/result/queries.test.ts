import type { Page } from "@/lib/types";

import type { Trade } from "./breakdown";
import { ALL_TRADES_PAGE, fetchAllTrades } from "./queries";

function reader(total: number) {
  const asked: number[] = [];
  const read = async (_id: string, page: number, perPage: number): Promise<Page<Trade>> => {
    asked.push(page);
    const from = (page - 1) * perPage;
    const items = Array.from({ length: Math.max(0, Math.min(perPage, total - from)) }, (_, index) => ({ entry_bar: from + index }));
    await new Promise((resolve) => setTimeout(resolve, page % 2 ? 5 : 0)); // pages come back out of order
    return { items, page, per_page: perPage, total };
  };
  return { read, asked };
}

describe("reading every trade of a run", () => {
  it("reads every page, a few at a time, and keeps the trades in order", async () => {
    const total = ALL_TRADES_PAGE * 5 + 7;
    const { read, asked } = reader(total);
    const seen: number[] = [];
    const trades = await fetchAllTrades("r1", total, (done) => seen.push(done), read);
    expect(trades).toHaveLength(total);
    expect(trades.every((trade, index) => trade.entry_bar === index)).toBe(true);
    expect([...asked].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seen[seen.length - 1]).toBe(total);
  });

  it("asks nothing for a run without trades", async () => {
    const { read, asked } = reader(0);
    expect(await fetchAllTrades("r1", 0, undefined, read)).toEqual([]);
    expect(asked).toEqual([]);
  });
});
