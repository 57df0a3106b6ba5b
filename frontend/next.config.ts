import type { NextConfig } from "next";

// The same security headers as the API's (app/security_headers.py): no content sniffing, no referrer
// sent on (the login link's page holds a token in its fragment, which browsers never send, but the
// rest of a URL carries ids), and no page of the UI inside another site's frame (clickjacking).
const SECURITY_HEADERS = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "no-referrer" },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "Content-Security-Policy", value: "frame-ancestors 'none'" },
];

// The UI is served by `next start` (make run, the Procfile, compose) or by any static-capable host.
// The API's URL is read at request time (src/app/ui-config/route.ts), so one build serves any API.
const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  output: process.env.NEXT_OUTPUT === "standalone" ? "standalone" : undefined,
  async headers() {
    return [{ source: "/:path*", headers: SECURITY_HEADERS }];
  },
};

export default config;
