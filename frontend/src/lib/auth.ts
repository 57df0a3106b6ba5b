// The API token, kept in sessionStorage (gone with the tab) or, with "remember me", in localStorage.

const KEY = "tickflow.token";

export function getToken(): string | null {
  if (typeof window === "undefined") return null;
  return window.sessionStorage.getItem(KEY) ?? window.localStorage.getItem(KEY);
}

export function setToken(token: string, remember: boolean): void {
  clearToken();
  (remember ? window.localStorage : window.sessionStorage).setItem(KEY, token);
}

export function clearToken(): void {
  window.sessionStorage.removeItem(KEY);
  window.localStorage.removeItem(KEY);
}

/** A token handed over in the address's fragment (`/login#token=...`): never sent to a server. */
export function tokenFromFragment(hash: string): string | null {
  const match = /(?:^#|&)token=([^&]+)/.exec(hash);
  return match ? decodeURIComponent(match[1]) : null;
}

/** What the shell shows after the token's name: nothing for admin (it may do anything), else what it is limited to. */
export function scopeNote(scopes: readonly string[]): string {
  if (scopes.includes("admin")) return "";
  return scopes.includes("trade") ? " (trade: no deletes or uploads)" : " (read only)";
}
