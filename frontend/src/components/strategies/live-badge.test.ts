import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it, vi } from "vitest";

import type { Strategy } from "@/lib/types";

import { eventStrategy, liveOf, refreshIfNewlyLive } from "./live-badge";

const LIVE = { active: true, mode: "paper", cash: 1000, since: 1 };

describe("liveOf", () => {
  it("is the live state only while the strategy trades", () => {
    expect(liveOf({ live: LIVE })).toEqual(LIVE);
    expect(liveOf({ live: null })).toBeNull();
    expect(liveOf({ live: {} })).toBeNull();
    expect(liveOf(undefined)).toBeNull();
  });
});

describe("refreshIfNewlyLive", () => {
  const shown: Strategy[] = [{ id: "a", live: null }, { id: "b", live: LIVE }];
  const event = (strategy_id: unknown) => ({ id: "1-0", type: "fill", data: { strategy_id } });

  it("refetches the list when a strategy shown as idle trades", () => {
    const client = new QueryClient();
    const invalidate = vi.spyOn(client, "invalidateQueries").mockResolvedValue();
    expect(refreshIfNewlyLive(client, event("a"), shown, ["strategies"])).toBe(true);
    expect(invalidate).toHaveBeenCalledWith({ queryKey: ["strategies"] });
  });

  it("leaves it when the strategy is known to trade, not shown, or the event names none", () => {
    const client = new QueryClient();
    const invalidate = vi.spyOn(client, "invalidateQueries").mockResolvedValue();
    expect(refreshIfNewlyLive(client, event("b"), shown, ["strategies"])).toBe(false);
    expect(refreshIfNewlyLive(client, event("z"), shown, ["strategies"])).toBe(false);
    expect(refreshIfNewlyLive(client, event(7), shown, ["strategies"])).toBe(false);
    expect(eventStrategy({ id: "", type: "candle", data: null })).toBeNull();
    expect(invalidate).not.toHaveBeenCalled();
  });
});
