import { executedSize, feesText, outcomeOf, requestedSize, stateBadge, type VenueOrder } from "./orders";

function order(changes: Partial<VenueOrder> = {}): VenueOrder {
  return {
    client_order_id: "tf1abc",
    venue: "binance",
    strategy_id: "s1",
    symbol: "BTCUSDT",
    side: "buy",
    size: 0.0101,
    price: 60_000,
    ts: 1_700_000_000_000,
    reason: "entry",
    state: "filled",
    adopted: false,
    outcome: null,
    history: [],
    fills: [],
    ...changes,
  };
}

describe("the venue orders panel", () => {
  it("tells a filled order from one that went wrong", () => {
    expect(stateBadge("filled")).toEqual({ label: "filled", tone: "green" });
    expect(stateBadge("partial").tone).toBe("amber");
    expect(stateBadge("rejected").tone).toBe("red");
    expect(stateBadge("not_sent")).toEqual({ label: "not sent", tone: "red" });
    expect(stateBadge("sent").tone).toBe("sky");
    expect(stateBadge("cancelled")).toEqual({ label: "cancelled", tone: "slate" });
  });

  it("lists the fees as the venue charged them, in their assets", () => {
    const fees = [{ asset: "BTC", amount: 0.00001 }];
    expect(feesText(order({ outcome: { fees, commission: 0.6 } }), "USDT")).toBe("0.00001 BTC");
    const both = [{ asset: "USDT", amount: 0.59 }, { asset: "BNB", amount: 0.001 }];
    expect(feesText(order({ outcome: { fees: both } }), "USDT")).toBe("0.59 USDT + 0.001 BNB");
  });

  it("falls back to the quote commission, and shows none before the venue answered", () => {
    expect(feesText(order({ outcome: { commission: 0.59, fees: [] } }), "USDT")).toBe("0.59 USDT");
    expect(feesText(order({ outcome: {} }), "USDT")).toBe("—");
    expect(feesText(order(), "USDT")).toBe("—");
  });

  it("shows the size sent and what the venue traded, or the engine's size before an answer", () => {
    const answered = order({ outcome: { requested: 0.01, gross: 0.01, executed: 0.00999 } });
    expect(requestedSize(answered)).toBe(0.01);
    expect(executedSize(answered)).toBe(0.01);
    expect(requestedSize(order({ outcome: {} }))).toBe(0.0101);
    expect(executedSize(order({ outcome: {} }))).toBeUndefined();
    expect(outcomeOf(order({ outcome: {} }))).toBeNull();
  });
});
