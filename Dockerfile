# syntax=docker/dockerfile:1
# holdline: build with the dev toolchain, run with production dependencies only.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json tsconfig.client.json ./
COPY scripts ./scripts
COPY bin ./bin
COPY lib ./lib
COPY tools ./tools
COPY demo ./demo
COPY examples ./examples
COPY bench ./bench
COPY public ./public
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# dist/public holds what lib/http/handlers/static.ts serves: the browser client, the widget, the demo pages.
COPY --from=build /app/dist ./dist
# The image's unprivileged "node" user (uid 1000); the Helm chart runs as the same uid.
USER node
EXPOSE 8080
# No curl in slim images: node itself asks /healthz.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "require('http').get({host:'127.0.0.1',port:process.env.PORT||8080,path:'/healthz',timeout:2000},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"]
# exec form: node is PID 1 and receives SIGTERM itself, so the drain runs. A young generation of
# 32 MiB semi-spaces outlives a poll's objects at high publish rates (docs/OPERATIONS.md).
CMD ["node", "--max-semi-space-size=32", "dist/bin/holdline.js", "serve"]
