"use client";

import { usePathname } from "next/navigation";
import { useEffect, useState, type ReactNode } from "react";

import { Shell } from "@/components/shell";
import { getToken } from "@/lib/auth";

export default function AppLayout({ children }: { children: ReactNode }) {
  const pathname = usePathname();
  const [ready, setReady] = useState(false);
  useEffect(() => {
    if (getToken()) {
      setReady(true);
    } else {
      const next = window.location.pathname + window.location.search;
      window.location.replace(`/login?next=${encodeURIComponent(next)}`);
    }
  }, [pathname]);
  return ready ? <Shell>{children}</Shell> : null;
}
