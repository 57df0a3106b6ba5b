# The web UI (Next.js): `next start` serving the built app. It only needs the API's public URL
# (TICKFLOW_API_URL, read at request time), so this image runs against any TickFlow API.
# Build from the repo root: docker build -f docker/ui.Dockerfile -t tickflow-ui:local .

FROM node:20.20-bookworm-slim AS build
WORKDIR /app/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build && npm prune --omit=dev

FROM node:20.20-bookworm-slim
ENV NODE_ENV=production UI_HOST=0.0.0.0 UI_PORT=3000 NEXT_TELEMETRY_DISABLED=1
WORKDIR /app
COPY --from=build --chown=node:node /app/frontend /app/frontend
USER node
EXPOSE 3000
CMD ["sh", "-c", "exec npm --prefix frontend run start --silent"]
