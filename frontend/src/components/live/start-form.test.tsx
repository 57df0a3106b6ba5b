import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";

import { ApiError } from "@/lib/api";
import type { Strategy } from "@/lib/types";

import { StartForm } from "./start-form";

const post = vi.fn();
vi.mock("@/lib/api", async (original) => ({ ...(await original<typeof import("@/lib/api")>()), post: (...args: unknown[]) => post(...args) }));
vi.mock("next/link", () => ({ default: ({ href, children }: { href: string; children: React.ReactNode }) => <a href={href}>{children}</a> }));

const strategies: Strategy[] = [
  { id: "a1", name: "Alpha", spec: { symbols: ["BTCUSDT"], timeframe: "1h" }, live: null },
  { id: "b2", name: "Beta", spec: { symbols: ["ETHUSDT"], timeframe: "1m" }, live: { active: true, mode: "paper", cash: 10, since: 1 } },
  { id: "c3", name: "Gamma", spec: { symbols: ["BTCUSDT", "ETHUSDT"], timeframe: "4h" }, live: null },
];

function shown(activeIds: string[] = ["c3"]) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <StartForm strategies={strategies} activeIds={new Set(activeIds)} />
    </QueryClientProvider>,
  );
}

describe("the start form", () => {
  beforeEach(() => post.mockReset());

  it("offers only strategies that are not trading", () => {
    shown();
    const options = screen.getAllByRole("option").map((option) => option.textContent);
    expect(options).toEqual(["Choose a strategy…", "Alpha (BTCUSDT · 1h)", "Paper"]);
  });

  it("asks for a strategy and positive cash before calling the API", async () => {
    const user = userEvent.setup();
    shown();
    await user.clear(screen.getByLabelText("Cash per symbol"));
    await user.type(screen.getByLabelText("Cash per symbol"), "0");
    await user.click(screen.getByRole("button", { name: "Start" }));
    expect(await screen.findByText("Pick a strategy to start.")).toBeInTheDocument();
    expect(screen.getByText("Cash must be more than 0.")).toBeInTheDocument();
    expect(screen.getByLabelText("Cash per symbol")).toHaveAttribute("aria-invalid", "true");
    expect(post).not.toHaveBeenCalled();
  });

  it("starts the chosen strategy on paper with the cash", async () => {
    const user = userEvent.setup();
    post.mockResolvedValue({ strategy_id: "a1", active: true });
    shown();
    await user.selectOptions(screen.getByLabelText("Strategy"), "a1");
    await user.clear(screen.getByLabelText("Cash per symbol"));
    await user.type(screen.getByLabelText("Cash per symbol"), "2500.5");
    await user.click(screen.getByRole("button", { name: "Start" }));
    await waitFor(() => expect(post).toHaveBeenCalledWith("/strategies/a1/start", { mode: "paper", cash: 2500.5 }));
  });

  it("shows the API's 409 as a message and a 422 at its field", async () => {
    const user = userEvent.setup();
    post.mockRejectedValueOnce(new ApiError(409, { message: "Strategy a1 holds open positions (BTCUSDT) from a run with cash 5000." }));
    shown();
    await user.selectOptions(screen.getByLabelText("Strategy"), "a1");
    await user.click(screen.getByRole("button", { name: "Start" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("from a run with cash 5000");

    post.mockRejectedValueOnce(new ApiError(422, { message: "Invalid.", errors: { json: { cash: ["Must be less than or equal to 1e15."] } } }));
    await user.click(screen.getByRole("button", { name: "Start" }));
    expect(await screen.findByText("Must be less than or equal to 1e15.")).toBeInTheDocument();
  });

  it("says what to do when no strategy is stored", () => {
    const client = new QueryClient();
    render(
      <QueryClientProvider client={client}>
        <StartForm strategies={[]} activeIds={new Set()} />
      </QueryClientProvider>,
    );
    expect(screen.getByRole("link", { name: "Create one" })).toHaveAttribute("href", "/strategies");
  });
});
