import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";

import type { VenueOrder } from "./orders";
import { VenueOrdersCard } from "./venue-orders";

const filled: VenueOrder = {
  client_order_id: "tf1abc",
  venue: "binance",
  strategy_id: "s1",
  symbol: "BTCUSDT",
  side: "buy",
  size: 0.0101,
  price: 60_000,
  ts: Date.UTC(2026, 0, 2, 3, 4),
  reason: "entry",
  state: "filled",
  adopted: false,
  outcome: { venue_order_id: "12", venue_status: "FILLED", requested: 0.01, gross: 0.01, executed: 0.00999, average_price: 60_010, fees: [{ asset: "BTC", amount: 0.00001 }] },
  history: [{ state: "sent", at: "2026-01-02T03:05:00Z" }, { state: "filled", at: "2026-01-02T03:05:01Z", detail: "FILLED" }],
  fills: [{ trade_id: 7001, price: 60_010, quantity: 0.01, fee: 0.00001, fee_asset: "BTC" }],
};

function shown(items: VenueOrder[], live: boolean) {
  return render(<VenueOrdersCard query={{ data: { items, total: items.length, page: 1, per_page: 50 }, error: null, isPending: false }} live={live} zone="utc" />);
}

describe("the venue orders card", () => {
  it("lists an order's figures and opens to its history and fills", async () => {
    const user = userEvent.setup();
    shown([filled], true);
    const row = screen.getByTestId("venue-order");
    expect(row).toHaveTextContent("2026-01-02 03:04 UTC");
    expect(row).toHaveTextContent("60,010.00");
    expect(row).toHaveTextContent("0.00001 BTC");
    expect(screen.queryByTestId("venue-order-details")).not.toBeInTheDocument();
    await user.click(within(row).getByRole("button", { expanded: false }));
    const details = screen.getByTestId("venue-order-details");
    expect(within(details).getByTestId("order-history")).toHaveTextContent("sent");
    expect(within(details).getByTestId("order-fills")).toHaveTextContent("7001");
  });

  it("says a live strategy has no orders yet, and stays away from a paper one without any", () => {
    shown([], true);
    expect(screen.getByText("No venue orders yet")).toBeInTheDocument();
    const { container } = shown([], false);
    expect(container).toBeEmptyDOMElement();
  });
});
