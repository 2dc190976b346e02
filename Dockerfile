# result-gateway container image.
#   docker build -t result-gateway:0.1.0 .
#   docker run --rm -p 8080:8080 --read-only -e RG_REDIS_URL=redis://redis:6379/0 -e RG_AUTH_TOKENS="$TOKENS_JSON" result-gateway:0.1.0
# Node 24 is the current LTS line; the base is pinned to an exact release.

FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24.21.0-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:24.21.0-bookworm-slim
# tini as PID 1 forwards SIGTERM to node and reaps zombies; the gateway then drains and exits 0.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini=0.19.0-1 \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV RG_HTTP_HOST=0.0.0.0 \
    RG_HTTP_PORT=8080
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# Nothing is written at run time: the image works with a read-only root filesystem.
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
# The tracing preload is a no-op unless OTEL_EXPORTER_OTLP_ENDPOINT is set (docs/tracing.md).
CMD ["node", "--import", "./dist/tracing/register.js", "dist/server.js"]
