# One multi-target Dockerfile: `subgraph` (programme, south, london, insights: docker-compose.yml
# picks which with `command`) and `gateway`. Both run TypeScript directly with tsx.
FROM node:20-bookworm-slim AS base

WORKDIR /app

# Runtime dependencies only; tsx is a runtime dependency, so TypeScript runs directly.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

# What both sides share; each stage adds its own code only (the gateway image carries no
# subgraph's code: it knows subgraphs by URL and by the SDL they serve).
COPY tsconfig.json ./
COPY schema/ ./schema/

# The registry's tokens file (hashes only) lives here, on a volume every gateway replica mounts
# (docker-compose.yml); a new named volume takes this folder's owner, so the node user can
# write it (npm run registry:token).
RUN mkdir -p /app/.data/registry && chown node:node /app/.data/registry

USER node
ENV HOST=0.0.0.0 \
    NODE_ENV=production
# Node itself gets SIGTERM (exec-form command, no shell): it drains in-flight requests, then exits.
STOPSIGNAL SIGTERM

FROM base AS subgraph
COPY subgraphs/ ./subgraphs/
EXPOSE 4001 4002 4003 4004
CMD ["node", "--import", "tsx", "subgraphs/programme/main.ts"]

FROM base AS gateway
# scripts/: the operator's tools run in this container (registry-token.ts).
COPY gateway/ ./gateway/
COPY scripts/ ./scripts/
EXPOSE 4000
# V8 grows its heap lazily under the 10,000-trust rollout (peak RSS ~590 MB with Node's
# default); a 256 MiB old space keeps it under 300 MB at the same throughput (npm run bench).
ENV NODE_OPTIONS=--max-old-space-size=256
CMD ["node", "--import", "tsx", "gateway/main.ts"]
