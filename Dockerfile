# syntax=docker/dockerfile:1
#
# Periscope production image.
#
#   docker build -t periscope .
#   docker run --rm -p 3000:3000 -p 9464:9464 --read-only --tmpfs /tmp --cap-drop ALL periscope
#
# Four stages; only the last one ships:
#   deps       all dependencies (npm ci), for the build
#   build      TypeScript -> dist/, esbuild -> dist/bundle/, the bundle's
#              compile cache (scripts/warm-compile-cache.mjs)
#   prod-deps  production dependencies only (npm ci --omit=dev)
#   runtime    node, dist/, the production node_modules, package.json and
#              the compile cache
# The npm stages re-run only when package.json or package-lock.json change.

# Pin it by digest for reproducible builds, e.g.
#   --build-arg NODE_IMAGE=node:24-bookworm-slim@sha256:<digest>
ARG NODE_IMAGE=node:24-bookworm-slim

# --- all dependencies, for the build --------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Registry credentials and a custom CA are build secrets, mounted for this one
# command and never written to a layer:
#   --secret id=npmrc,src=$HOME/.npmrc        (registry, auth token)
#   --secret id=npm_ca,src=/path/to/ca.pem    (a TLS-intercepting proxy's CA)
# Both are optional. The npm cache mount keeps downloads between builds.
RUN --mount=type=secret,id=npmrc,target=/root/.npmrc \
    --mount=type=secret,id=npm_ca,target=/run/secrets/npm_ca \
    --mount=type=cache,target=/root/.npm,sharing=locked \
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi; \
    npm ci --no-audit --no-fund --no-update-notifier

# --- compile ----------------------------------------------------------------------
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.mjs ./scripts/
COPY service/src ./service/src
# tsc → dist/, then the production bundle → dist/bundle/ (scripts/bundle.mjs).
RUN npm run build
# Start the bundle once (to /readyz and SIGTERM) so Node writes the V8 code it
# compiled to a compile cache. Same base image, same node, same /app path and
# the same user (Node keeps a cache per uid) as the runtime stage: the cache
# is valid there. About 50 ms off every start.
COPY scripts/warm-compile-cache.mjs ./scripts/
RUN mkdir /app/compile-cache && chown 1000:1000 /app/compile-cache
USER 1000:1000
# Node writes the cache 0600; the runtime stage copies it root-owned, so it
# must be readable by all.
RUN NODE_ENV=production node scripts/warm-compile-cache.mjs /app/compile-cache \
 && chmod -R a+rX /app/compile-cache
USER root

# --- production dependencies only -----------------------------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=npmrc,target=/root/.npmrc \
    --mount=type=secret,id=npm_ca,target=/run/secrets/npm_ca \
    --mount=type=cache,target=/root/.npm,sharing=locked \
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi; \
    npm ci --omit=dev --no-audit --no-fund --no-update-notifier

# --- runtime ----------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# Package managers are build tools: out of the runtime, and out of its CVE reports.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-v*
ENV NODE_ENV=production
# Owned by root and not writable by the service's user: the code can't be
# changed at run time even where the root filesystem is not mounted read-only.
# Modules first: they change less often than the code.
COPY --from=prod-deps /app/node_modules /app/node_modules
COPY package.json /app/
COPY --from=build /app/dist /app/dist
COPY --from=build --chown=0:0 /app/compile-cache /app/compile-cache
# Read at start-up, never written (the directory is not the user's, and the
# root filesystem may be read-only). Another node, other V8 flags
# (NODE_OPTIONS) or another uid is a silent miss: a normal, slower start.
ENV NODE_COMPILE_CACHE=/app/compile-cache
WORKDIR /app

# The official image's `node` user, by number, so Kubernetes' runAsNonRoot can
# verify it without reading /etc/passwd.
USER 1000:1000
EXPOSE 3000 9464
# node is PID 1 (no shell, no entrypoint script), so SIGTERM from
# `docker stop` or the kubelet reaches the service's graceful shutdown.
# Nothing but /tmp needs to be writable.
ENTRYPOINT []
# The production bundle (scripts/bundle.mjs): the same code as dist/main.js
# with the telemetry preload, in one file, ready about a third sooner.
# --max-semi-space-size=16: under a container memory limit V8 shrinks its young
# generation (1 MB semi-spaces under 512Mi), and a service whose requests wait
# on I/O then pays for promoting and marking them: ~1.8-2x the CPU a request in
# the c10k test (docs/load-testing.md). Flags here win over NODE_OPTIONS, which
# stays free for yours (--max-old-space-size, say). The same list is in
# scripts/lib/production-command.ts (tests hold them equal).
CMD ["node", "--max-semi-space-size=16", "dist/bundle/periscope.js"]

ARG NODE_IMAGE
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="periscope" \
      org.opencontainers.image.description="Observability-first Fastify 5 service: OpenTelemetry tracing, Prometheus metrics, Kubernetes probes" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"
