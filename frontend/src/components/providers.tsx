"use client";

import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";

import { ApiError } from "@/lib/api";
import { SettingsProvider } from "@/lib/settings";

import { StreamProvider } from "./stream-provider";
import { ToastProvider } from "./toasts";

export function Providers({ children }: { children: ReactNode }) {
  const [client] = useState(
    () =>
      new QueryClient({
        defaultOptions: {
          queries: {
            staleTime: 5_000,
            refetchOnWindowFocus: false,
            // A 4xx will not change by asking again; a network hiccup or a 5xx may.
            retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
          },
        },
      }),
  );
  return (
    <QueryClientProvider client={client}>
      <SettingsProvider>
        <ToastProvider>
          <StreamProvider>{children}</StreamProvider>
        </ToastProvider>
      </SettingsProvider>
    </QueryClientProvider>
  );
}
