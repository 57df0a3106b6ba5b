// Where the API is, as the UI server says at /ui-config (read once per page load, asked for as soon as this
// module loads: every API call of the first render waits on it).

export interface UiConfig {
  apiUrl: string;
}

let loading: Promise<UiConfig> | null = null;

export function uiConfig(): Promise<UiConfig> {
  loading ??= fetch("/ui-config", { cache: "no-store" }).then(async (response) => {
    if (!response.ok) throw new Error(`the UI server answered ${response.status} for /ui-config`);
    return (await response.json()) as UiConfig;
  });
  return loading;
}

if (typeof window !== "undefined") void uiConfig().catch(() => {}); // a failure is reported to the first caller
