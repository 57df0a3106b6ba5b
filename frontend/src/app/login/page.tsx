"use client";

import { useSearchParams } from "next/navigation";
import { Suspense, useEffect, useState, type FormEvent } from "react";

import { ApiError, request } from "@/lib/api";
import { setToken, tokenFromFragment } from "@/lib/auth";

function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/live";
}

function LoginForm() {
  const params = useSearchParams();
  const [token, setTokenText] = useState("");
  const [remember, setRemember] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function logIn(candidate: string, keep: boolean) {
    setBusy(true);
    setError(null);
    try {
      await request("/me", { token: candidate.trim() });
      setToken(candidate.trim(), keep);
      // A full load, so that everything started without a token (the live stream) starts with it.
      window.location.replace(safeNext(params.get("next")));
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : "The API could not be reached. Is it running?");
      setBusy(false);
    }
  }

  useEffect(() => {
    const fromLink = tokenFromFragment(window.location.hash);
    if (fromLink) {
      // Out of the address bar (and so out of history and bookmarks) before anything else.
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
      void logIn(fromLink, false);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!token.trim()) {
      setError("Paste an API token: `tickflow token create --name me` prints one.");
      return;
    }
    void logIn(token, remember);
  }

  return (
    <main className="flex min-h-screen items-center justify-center p-6">
      <form onSubmit={submit} className="w-full max-w-md rounded-lg bg-white p-8 shadow dark:bg-slate-900" noValidate>
        <h1 className="text-2xl font-semibold">TickFlow</h1>
        <p className="mt-1 text-sm text-slate-600 dark:text-slate-400">Log in with an API token.</p>
        <label htmlFor="token" className="mt-6 block text-sm font-medium">
          API token
        </label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          value={token}
          onChange={(event) => setTokenText(event.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? "token-error" : undefined}
          placeholder="tf_..."
          className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 font-mono text-sm dark:border-slate-700 dark:bg-slate-800"
        />
        {error && (
          <p id="token-error" role="alert" className="mt-2 text-sm text-rose-600 dark:text-rose-400">
            {error}
          </p>
        )}
        <label className="mt-4 flex items-center gap-2 text-sm">
          <input type="checkbox" checked={remember} onChange={(event) => setRemember(event.target.checked)} />
          Remember me on this browser
        </label>
        <button
          type="submit"
          disabled={busy}
          className="mt-6 w-full rounded-md bg-sky-700 px-4 py-2 font-medium text-white hover:bg-sky-800 disabled:opacity-60"
        >
          {busy ? "Checking…" : "Log in"}
        </button>
        <p className="mt-4 text-xs text-slate-500 dark:text-slate-400">
          The token stays in this browser and is sent only to the API, as a bearer token.
        </p>
      </form>
    </main>
  );
}

export default function LoginPage() {
  return (
    <Suspense>
      <LoginForm />
    </Suspense>
  );
}
