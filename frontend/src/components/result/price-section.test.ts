import { noTradeReason } from "./price-section";

describe("why a run closed no trade", () => {
  it("names skipped entries first, then a position still open, then no signal", () => {
    expect(noTradeReason({ skipped: { total: 50 } })).toContain("signalled 50 entries, but the sizing placed no order");
    expect(noTradeReason({ skipped: { total: 0 }, open_trades: [{}] })).toContain("still open at the end");
    expect(noTradeReason({})).toContain("never signalled an entry");
  });
});
