# syntax=docker/dockerfile:1
# The gateway as a container: built to JavaScript in one stage, run as a non-root user from another
# that holds only the runtime dependencies. Guide: docs/deployment.md
#   docker build -t voice-llm-gateway .
#   docker run --init -p 8083:8083 -e GATEWAY_API_KEYS=... voice-llm-gateway

FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --omit=optional: the image has its own Node.js 24, the lockfile's pinned binary is not needed.
RUN npm ci --omit=optional --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY bin ./bin
COPY config.example.yaml ./
# The data folder (generated keys, SQLite records) belongs to the user the gateway runs as; mount
# a volume here, or use PostgreSQL (DATABASE_URL) and configured keys.
RUN mkdir -m 0700 data && chown node:node data
USER node
EXPOSE 8083
# Node.js itself is PID 1 (exec form, no shell, no npm): SIGTERM reaches the server, which drains
# for server.drainTimeoutMs. Give the runtime longer than that before it kills (docker stop -t 30).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8083) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/voice-llm-gateway.js"]
CMD ["serve"]
