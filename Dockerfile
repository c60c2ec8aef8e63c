# syntax=docker/dockerfile:1
# The users API image. Node 24 runs the TypeScript sources directly (type stripping, no warning since
# v24.3.0, stable since v24.12.0), so there is no compile step and the image holds exactly the reviewed
# .ts files. Checked by test/api/dockerfile.test.ts, since no Docker engine runs where the tests run.
#
# Base: Node 24 LTS on Alpine, the same Node version as the toolchain (package.json devDependency "node"),
# pinned by tag and digest. Bump both together; verify with `docker buildx imagetools inspect <tag>`.
ARG NODE_IMAGE=node:24.21.0-alpine3.23@sha256:9ec4a2e289874ed0d722e1772ec2de45d2801541db8612f3638b26f128c69ac2

# ---- deps: production dependencies only, from the lockfile, no install scripts ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime: node, node_modules and the API sources; nothing else, no npm at run time ----
FROM ${NODE_IMAGE} AS runtime
# Labels for a local `docker build`; the release workflow passes the same three as build args
# (scripts/lib/release/tags.ts computes them) and as OCI labels of the pushed image.
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=https://github.com/example-org/gitops-users
LABEL org.opencontainers.image.title="users-api" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.version="${VERSION}"
ENV NODE_ENV=production
# The API listens on 127.0.0.1 unless told otherwise (apps/users-api/src/config.ts); in a container, every address.
ENV HOST=0.0.0.0
# The base image ships package managers the API never needs at run time: npm, npx and corepack under
# /usr/local (the Node tarball), yarn under /opt, and Alpine's apk. Remove them so a compromised process
# cannot install anything (layout: nodejs/docker-node, 24/alpine3.23/Dockerfile). apk's database under
# /lib/apk stays, so image scanners still see the OS packages.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
           /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-v* /sbin/apk /etc/apk/cache \
 && node --version
WORKDIR /app
# Files stay owned by root and are not writable by the runtime user; the root filesystem can be
# read-only (the pod mounts an emptyDir at /tmp, the only place the process may write).
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY apps/users-api/src ./apps/users-api/src
# No configuration or secrets here: MONGODB_URI and the settings arrive as environment variables.
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself (main.ts drains and exits 0).
CMD ["node", "apps/users-api/src/main.ts"]
