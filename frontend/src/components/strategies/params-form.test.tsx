import { act, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { ParamsForm } from "./params-form";

const USES = { fast: ["fast.timeperiod"], slow: [] };

describe("ParamsForm", () => {
  it("shows each param with where it is used", () => {
    render(<ParamsForm params={{ fast: 10, slow: 20 }} uses={USES} errors={{}} onChange={() => undefined} />);
    expect(screen.getByLabelText("fast")).toHaveValue("10");
    expect(screen.getByLabelText("slow")).toHaveValue("20");
    expect(screen.getByText("used by fast.timeperiod")).toBeInTheDocument();
    expect(screen.getByText("not used yet")).toBeInTheDocument();
  });

  it("reports a valid number as it is typed, and refuses what is not one", async () => {
    const onChange = vi.fn();
    const user = userEvent.setup();
    render(<ParamsForm params={{ fast: 10 }} uses={USES} errors={{}} onChange={onChange} />);
    const field = screen.getByLabelText("fast");
    await user.clear(field);
    expect(await screen.findByRole("alert")).toHaveTextContent("Enter a number.");
    await user.type(field, "1e");
    expect(await screen.findByRole("alert")).toHaveTextContent("Enter a number, like 10 or 0.05.");
    await user.type(field, "2");
    expect(onChange).toHaveBeenLastCalledWith("fast", 100);
    expect(field).toHaveAttribute("aria-describedby", "param-fast-note");
  });

  it("follows the document, and shows the API's message at its param", async () => {
    const { rerender } = render(<ParamsForm params={{ fast: 10 }} uses={USES} errors={{}} onChange={() => undefined} />);
    await act(async () => rerender(<ParamsForm params={{ fast: 12, slow: 30 }} uses={USES} errors={{ "params.slow": ["must be a whole number"] }} onChange={() => undefined} />));
    expect(screen.getByLabelText("fast")).toHaveValue("12");
    expect(screen.getByLabelText("slow")).toHaveValue("30");
    expect(screen.getByRole("alert")).toHaveTextContent("must be a whole number");
  });

  it("says what to do without params, or when the document cannot be read", () => {
    const { rerender } = render(<ParamsForm params={{}} uses={{}} errors={{}} onChange={() => undefined} />);
    expect(screen.getByText(/No params/)).toBeInTheDocument();
    rerender(<ParamsForm params={null} uses={{}} errors={{}} onChange={() => undefined} disabledReason="Fix the JSON syntax error to edit the params here." />);
    expect(screen.getByText("Fix the JSON syntax error to edit the params here.")).toBeInTheDocument();
  });
});
