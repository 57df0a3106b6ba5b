import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { ReactNode } from "react";

import { ApiError } from "@/lib/api";
import { SettingsProvider } from "@/lib/settings";

import { SweepForm } from "./sweep-form";

const api = vi.hoisted(() => ({ get: vi.fn(), post: vi.fn() }));
const navigation = vi.hoisted(() => ({ push: vi.fn(), search: new URLSearchParams("strategy_id=s2") }));

vi.mock("@/lib/api", async (original) => ({ ...(await original<typeof import("@/lib/api")>()), get: api.get, post: api.post }));
vi.mock("next/navigation", () => ({ useSearchParams: () => navigation.search, useRouter: () => ({ push: navigation.push }) }));

const HOUR = 3_600_000;
const STRATEGIES = [
  { id: "s1", name: "Other", spec: { symbols: ["ETHUSDT"], timeframe: "1h", params: { period: 14 } } },
  { id: "s2", name: "SMA cross 10/20", spec: { symbols: ["BTCUSDT"], timeframe: "1h", params: { fast: 10, slow: 20, stop: 0.02 } } },
];
const SERIES = { symbol: "BTCUSDT", timeframe: "1h", first_ts: Date.UTC(2024, 0, 1), last_ts: Date.UTC(2024, 0, 1) + 1999 * HOUR, count: 2000 };

function wrapper({ children }: { children: ReactNode }) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return (
    <QueryClientProvider client={client}>
      <SettingsProvider>{children}</SettingsProvider>
    </QueryClientProvider>
  );
}

/** Wait for the form to be ready: the strategy asked for is chosen, and its param rows are drawn. */
async function formReady(): Promise<void> {
  await waitFor(() => {
    expect(screen.getByLabelText("Strategy")).toHaveValue("s2");
    expect(screen.getAllByTestId("grid-row")).toHaveLength(3);
  });
}

describe("the sweep form", () => {
  beforeEach(() => {
    api.get.mockImplementation(async (path: string) => {
      if (path === "/strategies") return { items: STRATEGIES, page: 1, per_page: 100, total: 2 };
      if (path === "/candles") return { items: [SERIES] };
      throw new Error(`unexpected GET ${path}`);
    });
    api.post.mockReset();
    navigation.push.mockReset();
  });

  it("makes a row of each param of the strategy asked for, counts combinations as they are typed and sends the grid", async () => {
    api.post.mockResolvedValue({ id: "w1" });
    render(<SweepForm />, { wrapper });
    await formReady();
    expect(screen.getAllByTestId("grid-row").map((row) => row.querySelector("label")?.textContent)).toEqual(["fast", "slow", "stop"]);
    expect(screen.getByTestId("combo-count")).toHaveTextContent("No param varies yet");

    await userEvent.type(screen.getByLabelText("fast"), "5:50:5");
    expect(screen.getByTestId("combo-count")).toHaveTextContent("10 combinations before the constraint");
    await userEvent.type(screen.getByLabelText("slow"), "20, 50, 100, 200");
    expect(screen.getByTestId("combo-count")).toHaveTextContent("10 × 4 = 40 combinations before the constraint");
    expect(screen.getAllByTestId("row-count").map((cell) => cell.textContent)).toEqual(["10 values", "4 values", "not swept"]);
    await userEvent.type(screen.getByLabelText("stop"), "0.01:x");
    expect(screen.getByTestId("combo-count")).toHaveTextContent("Fix the values marked above");
    await userEvent.clear(screen.getByLabelText("stop"));

    await userEvent.type(screen.getByLabelText("Constraint (optional)"), "$fast < $slow");
    await userEvent.selectOptions(screen.getByLabelText("Objective"), "return_pct");
    await userEvent.click(screen.getByRole("button", { name: "Start sweep" }));
    await waitFor(() => expect(api.post).toHaveBeenCalledTimes(1));
    expect(api.post.mock.calls[0]).toEqual([
      "/sweeps",
      {
        strategy_id: "s2",
        symbol: "BTCUSDT",
        start: Date.UTC(2024, 0, 1),
        end: Date.UTC(2024, 2, 25),
        cash: 10_000,
        grid: { fast: { start: 5, stop: 50, step: 5 }, slow: [20, 50, 100, 200] },
        constraint: "$fast < $slow",
        objective: "return_pct",
        maximize: true,
      },
    ]);
    await waitFor(() => expect(navigation.push).toHaveBeenCalledWith("/sweeps/w1"));
  });

  it("checks values before sending and shows the API's 422 at the row and field it names", async () => {
    render(<SweepForm />, { wrapper });
    await formReady();
    await userEvent.click(screen.getByRole("button", { name: "Start sweep" }));
    expect(await screen.findByText(/Give values to at least one param/)).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText("fast"), "9:3");
    await userEvent.click(screen.getByRole("button", { name: "Start sweep" }));
    expect(await screen.findByText("The stop must not be below the start")).toBeInTheDocument();
    expect(api.post).not.toHaveBeenCalled();

    api.post.mockRejectedValue(
      new ApiError(422, { message: "The sweep request is invalid.", errors: { json: { "grid.fast": ["0: must be at least 2"], constraint: ["unknown parameter $slw; did you mean slow?"] } } }),
    );
    await userEvent.clear(screen.getByLabelText("fast"));
    await userEvent.type(screen.getByLabelText("fast"), "0, 5");
    await userEvent.type(screen.getByLabelText("Constraint (optional)"), "$fast < $slw");
    await userEvent.click(screen.getByRole("button", { name: "Start sweep" }));
    expect(await screen.findByText("0: must be at least 2")).toHaveAttribute("id", "grid.fast-error");
    expect(screen.getByLabelText("fast")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByText("unknown parameter $slw; did you mean slow?")).toHaveAttribute("id", "constraint-error");
  });
});
