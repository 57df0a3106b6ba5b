import type { Metadata } from "next";
import type { ReactNode } from "react";

export const metadata: Metadata = { title: "Sweeps" };

export default function Section({ children }: { children: ReactNode }) {
  return children;
}
