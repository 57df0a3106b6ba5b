import type { Metadata } from "next";
import type { ReactNode } from "react";

export const metadata: Metadata = { title: "Backtests" };

export default function Section({ children }: { children: ReactNode }) {
  return children;
}
