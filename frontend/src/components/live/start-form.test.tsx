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

// jsdom has no modal dialogs: showing one sets its open attribute, as a browser does.
HTMLDialogElement.prototype.showModal ??= function (this: HTMLDialogElement) {
  this.open = true;
};
HTMLDialogElement.prototype.close ??= function (this: HTMLDialogElement) {
  this.open = false;
};

describe("the start form", () => {
  beforeEach(() => post.mockReset());

  it("offers only strategies that are not trading", () => {
    shown();
    const options = screen.getAllByRole("option").map((option) => option.textContent);
    expect(options).toEqual(["Choose a strategy…", "Alpha (BTCUSDT · 1h)", "Paper", "Live (on the venue)"]);
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

  it("asks before a live start: cancelling sends nothing, confirming starts it live", async () => {
    const user = userEvent.setup();
    post.mockResolvedValue({ strategy_id: "a1", active: true, mode: "live" });
    shown();
    await user.selectOptions(screen.getByLabelText("Strategy"), "a1");
    await user.selectOptions(screen.getByLabelText("Mode"), "live");
    expect(screen.getByText("Real orders on the venue set on the server")).toBeInTheDocument();
    await user.clear(screen.getByLabelText("Cash per symbol"));
    await user.type(screen.getByLabelText("Cash per symbol"), "2000");
    await user.click(screen.getByRole("button", { name: "Start" }));

    const dialog = await screen.findByRole("dialog", { name: "Trade real orders?" });
    expect(dialog).toHaveTextContent("Alpha starts live on BTCUSDT with 2,000.00 USDT per symbol.");
    expect(dialog).toHaveTextContent("Its orders go to the exchange configured on the server");
    await user.click(screen.getByRole("button", { name: "Cancel" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(post).not.toHaveBeenCalled();

    await user.click(screen.getByRole("button", { name: "Start" }));
    await user.click(await screen.findByRole("button", { name: "Start live" }));
    await waitFor(() => expect(post).toHaveBeenCalledWith("/strategies/a1/start", { mode: "live", cash: 2000 }));
    expect(post).toHaveBeenCalledTimes(1);
  });

  it("shows why the venue cannot carry a live start, and a mode the API refuses at the Mode field", async () => {
    const user = userEvent.setup();
    const reason = "Cash 10000 on 1 symbol(s) needs 10000 USDT free; the account has 5000 free, 0 of it held by other live strategies.";
    post.mockRejectedValueOnce(new ApiError(409, { message: reason }));
    shown();
    await user.selectOptions(screen.getByLabelText("Strategy"), "a1");
    await user.selectOptions(screen.getByLabelText("Mode"), "live");
    await user.click(screen.getByRole("button", { name: "Start" }));
    await user.click(await screen.findByRole("button", { name: "Start live" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(reason);
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();

    post.mockRejectedValueOnce(new ApiError(422, { message: "Invalid.", errors: { json: { mode: ["Must be one of: paper, live."] } } }));
    await user.click(screen.getByRole("button", { name: "Start" }));
    await user.click(await screen.findByRole("button", { name: "Start live" }));
    expect(await screen.findByText("Must be one of: paper, live.")).toHaveAttribute("id", "start-mode-error");
    expect(screen.getByLabelText("Mode")).toHaveAttribute("aria-invalid", "true");
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
