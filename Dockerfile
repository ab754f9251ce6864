# syntax=docker/dockerfile:1
# Build stage: install everything, compile TypeScript.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY connectors ./connectors
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev --ignore-scripts

# Runtime stage: production dependencies and compiled code only, as an unprivileged user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    TANDEM_CONFIG=/app/config/tandem.yaml \
    TANDEM_DATA_DIR=/data \
    TANDEM_HOST=0.0.0.0
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
COPY --chown=node:node config ./config
# The console's stylesheet and page modules are served from the source tree (see static-assets.ts).
COPY --chown=node:node src/http/console/static ./src/http/console/static
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
# Liveness only: /healthz answers while the process runs. /readyz also checks Redis, the store and
# both connected systems; a HubSpot or Business Central outage must not get a healthy tandem
# restarted, so orchestrators use /readyz for readiness (routing, start order) instead.
# Roles without the API server (worker, scheduler) answer on TANDEM_METRICS_PORT when it is set.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.TANDEM_METRICS_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["start"]
