# syntax=docker/dockerfile:1
# One image for every runtime: `jobshift api` (default) and `jobshift worker`.
# Build:  docker build --build-arg GIT_SHA=$(git rev-parse HEAD) -t jobshift:$(git rev-parse --short HEAD) .
# The test suite runs these same steps without Docker (test/e2e/dockerfile.test.ts).

# Build and deps stages use the full image: it has python3, make and g++ for native modules.
FROM node:20.20.2-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY scripts/prepare.mjs ./scripts/prepare.mjs
COPY src ./src
RUN npm ci --no-audit --no-fund && npm run build

FROM node:20.20.2-bookworm AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/prepare.mjs ./scripts/prepare.mjs
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20.20.2-bookworm-slim AS runtime
ARG GIT_SHA=unknown
LABEL org.opencontainers.image.title="jobshift" \
      org.opencontainers.image.description="Asynchronous job platform: HTTP API and workers" \
      org.opencontainers.image.source="https://example.invalid/jobshift" \
      org.opencontainers.image.revision="${GIT_SHA}" \
      org.opencontainers.image.licenses="MIT"
ENV NODE_ENV=production \
    JOBSHIFT_HOST=0.0.0.0 \
    JOBSHIFT_PORT=8080 \
    JOBSHIFT_DATA_DIR=/data \
    JOBSHIFT_LOG_FORMAT=json \
    TMPDIR=/tmp
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
# Runs with a read-only root filesystem: only /data (embedded store) and /tmp need to be writable.
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.JOBSHIFT_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "/app/bin/jobshift.js"]
CMD ["api"]
