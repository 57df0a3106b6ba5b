"use client";
// Short notices in a corner (a fill arrived, a strategy stopped); each goes after a few seconds.

import { createContext, useCallback, useContext, useState, type ReactNode } from "react";

export interface Toast {
  id: number;
  title: string;
  body?: string;
  tone: "info" | "success" | "error";
}

const ToastContext = createContext<(toast: Omit<Toast, "id">) => void>(() => undefined);
let nextId = 1;

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const push = useCallback((toast: Omit<Toast, "id">) => {
    const id = nextId++;
    setToasts((shown) => [...shown.slice(-4), { ...toast, id }]);
    window.setTimeout(() => setToasts((shown) => shown.filter((item) => item.id !== id)), 6000);
  }, []);
  const tones = {
    info: "border-sky-500",
    success: "border-emerald-500",
    error: "border-rose-500",
  };
  return (
    <ToastContext.Provider value={push}>
      {children}
      <div aria-live="polite" className="pointer-events-none fixed right-4 bottom-4 z-50 flex w-80 flex-col gap-2">
        {toasts.map((toast) => (
          <div
            key={toast.id}
            role="status"
            data-testid="toast"
            className={`pointer-events-auto rounded-md border-l-4 bg-white p-3 text-sm shadow-lg dark:bg-slate-800 ${tones[toast.tone]}`}
          >
            <p className="font-semibold">{toast.title}</p>
            {toast.body && <p className="mt-1 text-slate-600 dark:text-slate-300">{toast.body}</p>}
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export function useToast(): (toast: Omit<Toast, "id">) => void {
  return useContext(ToastContext);
}
