// What a section's layout.tsx re-exports: its pages' title (as "<title> · TickFlow"), and no frame of its own.

import type { Metadata } from "next";
import type { ReactNode } from "react";

export function titled(title: string): Metadata {
  return { title };
}

export function SectionLayout({ children }: { children: ReactNode }) {
  return children;
}
