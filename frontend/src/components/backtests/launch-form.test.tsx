import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { ReactNode } from "react";

import { ApiError } from "@/lib/api";
import { SettingsProvider } from "@/lib/settings";

import { LaunchForm } from "./launch-form";

const api = vi.hoisted(() => ({ get: vi.fn(), post: vi.fn() }));

vi.mock("@/lib/api", async (original) => ({ ...(await original<typeof import("@/lib/api")>()), get: api.get, post: api.post }));
vi.mock("next/navigation", () => ({ useSearchParams: () => new URLSearchParams() }));

const HOUR = 3_600_000;
const STRATEGY = {
  id: "s1",
  name: "SMA cross 10/20",
  spec: { name: "SMA cross 10/20", symbols: ["BTCUSDT", "ETHUSDT"], timeframe: "1h", params: { fast: 10, slow: 20 } },
};
const RUN = { id: "r1", strategy_name: "SMA cross 10/20", symbol: "BTCUSDT", timeframe: "1h", state: "queued" };
const SERIES = { symbol: "BTCUSDT", timeframe: "1h", first_ts: Date.UTC(2024, 0, 1), last_ts: Date.UTC(2024, 0, 1) + 1999 * HOUR, count: 2000 };

function wrapper({ children }: { children: ReactNode }) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return (
    <QueryClientProvider client={client}>
      <SettingsProvider>{children}</SettingsProvider>
    </QueryClientProvider>
  );
}

describe("the launch form", () => {
  beforeEach(() => {
    api.get.mockImplementation(async (path: string) => {
      if (path === "/strategies") return { items: [STRATEGY], page: 1, per_page: 100, total: 1 };
      if (path === "/candles") return { items: [SERIES] };
      if (path === "/backtests/r1") return { ...RUN, state: "done", stats: { return_pct: 12.5, sharpe: 1.2, max_drawdown_pct: -8, n_trades: 14 } };
      throw new Error(`unexpected GET ${path}`);
    });
    api.post.mockReset();
  });

  it("is filled from the strategy's spec and the stored candles, and sends them", async () => {
    api.post.mockResolvedValue(RUN);
    render(<LaunchForm />, { wrapper });
    await waitFor(() => expect(screen.getByLabelText("fast")).toHaveValue(10));
    expect(screen.getByLabelText("slow")).toHaveValue(20);
    expect(screen.getByLabelText("Symbol")).toHaveValue("BTCUSDT");
    expect(screen.getByLabelText("Start date (UTC)")).toHaveValue("2024-01-01");
    expect(screen.getByLabelText("End date (UTC)")).toHaveValue("2024-03-24");
    expect(screen.getByTestId("stored-range")).toHaveTextContent("2,000 candles");

    await userEvent.clear(screen.getByLabelText("fast"));
    await userEvent.type(screen.getByLabelText("fast"), "7");
    await userEvent.click(screen.getByRole("button", { name: "Launch backtest" }));
    await waitFor(() => expect(api.post).toHaveBeenCalledTimes(1));
    expect(api.post.mock.calls[0]).toEqual([
      "/backtests",
      { strategy_id: "s1", symbol: "BTCUSDT", start: Date.UTC(2024, 0, 1), end: Date.UTC(2024, 2, 25), cash: 10_000, params: { fast: 7, slow: 20 } },
    ]);
    expect(await screen.findByTestId("launched")).toHaveTextContent("Backtest launched: SMA cross 10/20 on BTCUSDT 1h");
    expect(screen.getByRole("link", { name: "Open the run" })).toHaveAttribute("href", "/backtests/r1");
    // Read again once shown: a run that ended before the stream told this page still shows its end.
    expect(await screen.findByTestId("launched-result")).toHaveTextContent("Return +12.50 % · Sharpe 1.20 · max drawdown −8.00 % · 14 trades");
  });

  it("shows the API's 422 at the param it names", async () => {
    api.post.mockRejectedValue(
      new ApiError(422, { message: "The backtest request is invalid.", errors: { json: { params: ["indicators.fast.params.timeperiod: must be a whole number, got $fast = 3.5"] } } }),
    );
    render(<LaunchForm />, { wrapper });
    await waitFor(() => expect(screen.getByLabelText("fast")).toHaveValue(10));
    await userEvent.clear(screen.getByLabelText("fast"));
    await userEvent.type(screen.getByLabelText("fast"), "3.5");
    await userEvent.click(screen.getByRole("button", { name: "Launch backtest" }));
    expect(await screen.findByText(/got \$fast = 3.5/, { selector: "[id='params.fast-error']" })).toBeInTheDocument();
    expect(screen.getByLabelText("fast")).toHaveAttribute("aria-invalid", "true");
  });

  it("says when no candles of the symbol are stored, and launches nothing", async () => {
    render(<LaunchForm />, { wrapper });
    await waitFor(() => expect(screen.getByLabelText("fast")).toHaveValue(10));
    await userEvent.selectOptions(screen.getByLabelText("Symbol"), "ETHUSDT");
    expect(screen.getByTestId("stored-range")).toHaveTextContent("No ETHUSDT 1h candles are stored");
    expect(screen.getByRole("button", { name: "Launch backtest" })).toBeDisabled();
  });
});
