// The UI's runtime settings, read from the server's environment on every request, so one build
// serves any API: TICKFLOW_API_URL is where the browser sends its API calls.
export const dynamic = "force-dynamic";

export function GET(): Response {
  const apiUrl = (process.env.TICKFLOW_API_URL ?? "http://127.0.0.1:8000").replace(/\/+$/, "");
  return Response.json({ apiUrl }, { headers: { "Cache-Control": "no-store" } });
}
