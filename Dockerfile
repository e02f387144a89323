# syntax=docker/dockerfile:1
# vouch container image. Build from the repository root:
#   docker build -t vouch:dev .
# and Ratify v1 with vouch as its verifier plugin (the "ratify_plugin" stage; docs/ratify-plugin.md):
#   docker build --target ratify_plugin -t ratify-with-vouch:dev .
# test/deploy/dockerfile.test.ts checks the rules below (no Docker engine runs in CI).
#
# Rules this image holds to:
# - multi-stage: TypeScript is compiled in "build"; the runtime gets only dist/src and the
#   production node_modules from "deps" (npm install --omit=dev, from the lockfile);
# - runtime on Node 24 LTS slim, as the non-root user node (uid/gid 1000, numeric so that
#   Kubernetes runAsNonRoot can check it);
# - works with a read-only root filesystem: nothing is written outside /tmp at run time;
# - nothing secret inside: TLS keys, client CA, config and trust material are mounted at
#   /etc/vouch/... (see docs/getting-started.md and deploy/kubernetes/base);
# - two ports: 8443 serves decisions over HTTPS (mTLS when a client CA is given: then a client
#   without a certificate is refused in the handshake, on every path); 8081 is the probe listener,
#   plain HTTP with only /health, /ready and /metrics, turned on by `server.probeListen:
#   0.0.0.0:8081` in vouch.yaml (the shipped vouch.yaml files set it) or by
#   -e VOUCH_SERVER__PROBE_LISTEN=0.0.0.0:8081. The HEALTHCHECK below uses it.

ARG NODE_IMAGE=node:24-bookworm-slim
ARG RATIFY_IMAGE=ghcr.io/ratify-project/ratify:v1.4.0

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# npm install follows package-lock.json; npm ci refuses a lockfile that lacks other platforms'
# optional binaries (see scripts/setup.sh)
RUN npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/bundle-cli.mjs ./scripts/
# dist/src (tsc) and dist/cli (the bundled CLI the Ratify plugin starts once per artifact)
RUN npm run build && chmod 0755 dist/src/cli/main.js dist/cli/main.js

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force

# Ratify's own image: only its binary is taken (static Go, CGO_ENABLED=0, so it runs on Debian)
FROM ${RATIFY_IMAGE} AS ratify

# Ratify v1.4.0 with vouch installed as a verifier plugin. Ratify's image is distroless/static,
# which has no C library for Node, so the other way round: Ratify's static binary on Node's image.
# Laid out as Ratify's chart expects it (command /app/ratify, config at /usr/local/ratify, user
# 65532 whose HOME is /home/nonroot, plugins in $HOME/.ratify/plugins); a Verifier CR with
# `name: vouch` (or `type: vouch`) finds the plugin there (deploy/ratify-plugin/).
FROM ${NODE_IMAGE} AS ratify_plugin
LABEL org.opencontainers.image.title="ratify-with-vouch" \
      org.opencontainers.image.description="Ratify v1 with vouch as an external verifier plugin (notation, cosign, atproto, sbom, vulnerabilityReport)." \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    HOME=/home/nonroot \
    RATIFY_CONFIG=/home/nonroot/.ratify/
COPY --from=ratify /app/ratify /app/ratify
COPY --from=deps --chown=0:0 /app/node_modules /opt/vouch/node_modules
COPY --from=build --chown=0:0 /src/dist/cli /opt/vouch/dist/cli
COPY --chown=0:0 package.json /opt/vouch/
RUN node /opt/vouch/dist/cli/main.js ratify install-plugin --dir /home/nonroot/.ratify/plugins --name vouch \
    && chmod -R a+rX /home/nonroot
USER 65532:65532
EXPOSE 6001 8888
ENTRYPOINT ["/app/ratify", "serve", "--http", ":6001"]

FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="vouch" \
      org.opencontainers.image.description="Decides whether a container image may run: verifies notation, cosign and ATProto signatures; Gatekeeper external data provider and Kubernetes admission webhook." \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    HEALTHCHECK_URL=http://127.0.0.1:8081/health
WORKDIR /app
COPY --from=deps --chown=0:0 /app/node_modules ./node_modules
COPY --from=build --chown=0:0 /src/dist/src ./dist/src
COPY --chown=0:0 package.json ./
RUN ln -s /app/dist/src/cli/main.js /usr/local/bin/vouch
USER 1000:1000
EXPOSE 8443 8081
# Liveness inside Docker: GET /health on the probe listener over plain HTTP (the main port may
# demand a client certificate). HEALTHCHECK_URL may point elsewhere; for an https: URL the
# serving certificate is not checked (the probe only asks whether the process answers).
# No curl in the image: Node does it.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "const u=new URL(process.env.HEALTHCHECK_URL);(u.protocol==='http:'?require('node:http'):require('node:https')).get(u,{rejectUnauthorized:false,timeout:2000},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1)).on('timeout',()=>process.exit(1))"]
ENTRYPOINT ["vouch"]
CMD ["serve", "--config", "/etc/vouch/vouch.yaml", "--listen", "0.0.0.0:8443", \
     "--tls-cert", "/etc/vouch/tls/tls.crt", "--tls-key", "/etc/vouch/tls/tls.key"]
