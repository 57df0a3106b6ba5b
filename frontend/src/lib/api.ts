// The one way the UI talks to TickFlow: fetch with the bearer token, JSON in and out, and one error type.
//
// A 401 means the token is gone or wrong: the token is dropped and the user sent to /login?next=...
// A 503 means a store the API needs is down: listeners (the shell's banner) are told, and the call fails.

import { clearToken, getToken } from "./auth";
import { uiConfig } from "./config";

export interface ErrorBody {
  code?: number;
  status?: string;
  message?: string;
  errors?: Record<string, Record<string, string[]>>;
}

export class ApiError extends Error {
  readonly status: number;
  readonly body: ErrorBody;
  readonly etag: string | null;

  constructor(status: number, body: ErrorBody, etag: string | null = null) {
    super(body.message ?? `the API answered ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
    this.etag = etag;
  }

  /** Messages by field path ("timeframe", "indicators.fast.params") for one part of the request. */
  fieldErrors(location: "json" | "query" | "files" | "form" = "json"): Record<string, string[]> {
    return this.body.errors?.[location] ?? {};
  }
}

type Listener = (status: number) => void;
const outageListeners = new Set<Listener>();

/** Be told of every 503 (storage down) and of the next success after one (status 200). */
export function onStorageStatus(listener: Listener): () => void {
  outageListeners.add(listener);
  return () => outageListeners.delete(listener);
}

let redirecting = false;

function toLogin(): void {
  clearToken();
  if (redirecting || typeof window === "undefined" || window.location.pathname === "/login") return;
  redirecting = true;
  const next = window.location.pathname + window.location.search;
  window.location.assign(`/login?next=${encodeURIComponent(next)}`);
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  query?: Record<string, string | number | boolean | undefined | null>;
  body?: unknown;
  headers?: Record<string, string>;
  /** A token to use instead of the stored one (the login page checks a pasted token). */
  token?: string;
  signal?: AbortSignal;
}

export interface ApiResponse<T> {
  data: T;
  etag: string | null;
  status: number;
}

export async function apiUrl(path: string, query?: RequestOptions["query"]): Promise<string> {
  const { apiUrl: base } = await uiConfig();
  const url = new URL(`${base}/api/v1${path}`);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, String(value));
  }
  return url.toString();
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
  const token = options.token ?? getToken();
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  if (token) headers.Authorization = `Bearer ${token}`;
  let body: BodyInit | undefined;
  if (options.body instanceof FormData || typeof options.body === "string") {
    body = options.body;
  } else if (options.body !== undefined) {
    headers["Content-Type"] ??= "application/json";
    body = JSON.stringify(options.body);
  }
  const response = await fetch(await apiUrl(path, options.query), {
    method: options.method ?? "GET",
    headers,
    body,
    signal: options.signal,
  });
  const etag = response.headers.get("ETag");
  const text = await response.text();
  const parsed: unknown = text ? safeJson(text) : null;
  if (!response.ok) {
    const errorBody = (parsed && typeof parsed === "object" ? parsed : { message: text }) as ErrorBody;
    if (response.status === 401 && !options.token) toLogin();
    if (response.status === 503) outageListeners.forEach((listener) => listener(503));
    throw new ApiError(response.status, errorBody, etag);
  }
  outageListeners.forEach((listener) => listener(response.status));
  return { data: parsed as T, etag, status: response.status };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

export async function get<T>(path: string, query?: RequestOptions["query"]): Promise<T> {
  return (await request<T>(path, { query })).data;
}

export async function post<T>(path: string, body?: unknown): Promise<T> {
  return (await request<T>(path, { method: "POST", body: body ?? {} })).data;
}

export async function del<T>(path: string): Promise<T | null> {
  return (await request<T>(path, { method: "DELETE" })).data;
}
