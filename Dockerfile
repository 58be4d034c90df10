# syntax=docker/dockerfile:1.7
# One image for every role of Sluice: ROLE=api|worker|all chooses what runs.
#   docker build -t sluice .
#   docker run -e ROLE=api -e DATABASE_URL=... -e REDIS_URL=... -p 3000:3000 sluice
#   docker run sluice node dist/database/migrate.js     # migrations (idempotent, advisory lock)
#   docker run --rm -e DATABASE_URL=... -e REDIS_URL=... sluice node dist/cli.js keys:list   # operator CLI

ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: full dependencies, compile TypeScript to dist/ -------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund
COPY nest-cli.json tsconfig.json ./
COPY src ./src
COPY console ./console
# dist/ (the service) and console/dist/ (the console's static files, served at /console/)
RUN npm run build

# ---- production dependencies only --------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --no-audit --no-fund

# ---- runtime ------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: forwards SIGTERM to node (graceful drain) and reaps zombies.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    LOG_FORMAT=json \
    NPM_CONFIG_UPDATE_NOTIFIER=false

WORKDIR /app
# Owned by root and not writable by the app user: the code is immutable at run time, and the
# container runs with a read-only root filesystem in Kubernetes (only /tmp is writable).
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/console/dist ./console/dist
COPY package.json ./

# The node image's unprivileged user (uid/gid 1000); numeric so runAsNonRoot can verify it.
USER 1000:1000

# api (and all) listen on 3000, worker on 3001: /health/live, /health/ready, and /metrics unless
# METRICS_PORT moves it to a listener of its own (the Helm chart and docker-compose use 9464).
EXPOSE 3000 3001

HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const p=process.env.PORT||(process.env.ROLE==='worker'?3001:3000);fetch('http://127.0.0.1:'+p+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
