import type { NextConfig } from "next";

// The UI is served by `next start` (make run, the Procfile, compose) or by any static-capable host.
// The API's URL is read at request time (src/app/ui-config/route.ts), so one build serves any API.
const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  output: process.env.NEXT_OUTPUT === "standalone" ? "standalone" : undefined,
};

export default config;
