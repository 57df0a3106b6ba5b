import { ApiError, request } from "./api";

vi.mock("./config", () => ({ uiConfig: async () => ({ apiUrl: "http://api.test" }) }));

function answer(status: number, body: unknown, headers: Record<string, string> = {}) {
  return vi.fn(async () => new Response(body === null ? null : JSON.stringify(body), { status, headers }));
}

describe("the API client", () => {
  beforeEach(() => {
    window.sessionStorage.setItem("tickflow.token", "tf_abc");
    window.history.replaceState(null, "", "/backtests?page=2");
  });

  it("sends the bearer token and the query, and returns the body with its ETag", async () => {
    const fetcher = answer(200, { id: "s1" }, { ETag: '"3"' });
    vi.stubGlobal("fetch", fetcher);
    const response = await request<{ id: string }>("/strategies/s1", { query: { page: 2, name: undefined } });
    expect(response).toEqual({ data: { id: "s1" }, etag: '"3"', status: 200 });
    const [url, init] = fetcher.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("http://api.test/api/v1/strategies/s1?page=2");
    expect((init.headers as Record<string, string>).Authorization).toBe("Bearer tf_abc");
  });

  it("turns a 422 into an error that carries each field's messages", async () => {
    vi.stubGlobal("fetch", answer(422, { code: 422, message: "The strategy spec is invalid.", errors: { json: { timeframe: ["unknown timeframe '7m'"] } } }));
    const error = await request("/strategies", { method: "POST", body: {} }).catch((caught) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(422);
    expect(error.fieldErrors()).toEqual({ timeframe: ["unknown timeframe '7m'"] });
  });

  it("keeps the current ETag of a 412, to offer reloading or overwriting", async () => {
    vi.stubGlobal("fetch", answer(412, { code: 412, message: "If-Match names another version" }, { ETag: '"7"' }));
    const error = await request("/strategies/s1", { method: "PUT", body: {} }).catch((caught) => caught);
    expect([error.status, error.etag]).toEqual([412, '"7"']);
  });

  it("on a 401 forgets the token and goes to the login page, coming back afterwards", async () => {
    const assign = vi.fn();
    vi.stubGlobal("location", { ...window.location, pathname: "/backtests", search: "?page=2", assign });
    vi.stubGlobal("fetch", answer(401, { code: 401, message: "A valid API token is required" }));
    await expect(request("/backtests")).rejects.toThrow("A valid API token is required");
    expect(window.sessionStorage.getItem("tickflow.token")).toBeNull();
    expect(assign).toHaveBeenCalledWith("/login?next=%2Fbacktests%3Fpage%3D2");
  });

  it("on a 403 keeps the token and the page, and fails with the API's message naming the scope", async () => {
    const assign = vi.fn();
    vi.stubGlobal("location", { ...window.location, assign });
    const message = "This needs the 'trade' scope; the token 'ui' has 'read'.";
    vi.stubGlobal("fetch", answer(403, { code: 403, message }));
    await expect(request("/strategies/s1/start", { method: "POST" })).rejects.toThrow(message);
    expect(window.sessionStorage.getItem("tickflow.token")).toBe("tf_abc");
    expect(assign).not.toHaveBeenCalled();
  });
});
