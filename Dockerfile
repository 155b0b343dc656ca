# One image for every service; docker-compose.yml picks the service with `command`.
FROM node:20-bookworm-slim

WORKDIR /app

# Runtime dependencies only; tsx is a runtime dependency, so TypeScript runs directly.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY tsconfig.json ./
COPY gateway/ ./gateway/
COPY subgraphs/ ./subgraphs/
COPY schema/ ./schema/
COPY scripts/ ./scripts/

USER node
ENV HOST=0.0.0.0 \
    NODE_ENV=production

EXPOSE 4000
CMD ["node", "--import", "tsx", "gateway/main.ts"]
