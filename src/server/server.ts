/**
 * The verification server: fastify over HTTPS (mTLS when a client CA is set), one file per concern
 * (gatekeeper.ts, provide.ts, admission.ts, health.ts, tls.ts, budget.ts, overload.ts), all of them
 * deciding through one DecisionService (decisions.ts) so caching, single-flight, deadlines and
 * metrics are the same whichever front door a request uses.
 */
import { randomUUID } from 'node:crypto';
import type { Server as HttpsServer } from 'node:https';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { LayeredCacheStatus } from '../cache/layered.js';
import type { Cache } from '../cache/types.js';
import type { Logger } from '../observability/logger.js';
import { createServerMetrics, type ServerMetrics } from '../observability/metrics.js';
import { registerAdmissionRoutes } from './admission.js';
import type { ServerConfig } from './config.js';
import { parseListen } from './config.js';
import { createDecisionService, type DecisionEngine } from './decisions.js';
import { registerGatekeeperRoutes, systemErrorResponse } from './gatekeeper.js';
import { type ReadinessCheck, registerHealthRoutes } from './health.js';
import { installOverloadProtection } from './overload.js';
import { registerProvideRoute } from './provide.js';
import type { PublicListener } from './public/listener.js';
import { createApplicationStore } from './public/store.js';
import { boundSlowClients, slowClientFastifyOptions, slowClientTlsOptions } from './slow-clients.js';
import { readTlsMaterial, secureContextOptions, type TlsFiles, type TlsWatcher, watchTls } from './tls.js';
import { loadDetailKeys } from './verification-details.js';

export interface CreateServerOptions {
  readonly engine: DecisionEngine;
  /** The engine's cache; a layered cache's `status()` is shown in /ready. */
  readonly cache: Cache & { status?(): LayeredCacheStatus };
  readonly logger: Logger;
  readonly config: ServerConfig;
  /** Lifetime of an allow decision, ms (vouch.yaml `cache.ttlSeconds`). */
  readonly decisionTtlMs: number;
  readonly metrics?: ServerMetrics;
  /** Extra readiness checks (e.g. trust material) beside TLS and cache. */
  readonly readiness?: Readonly<Record<string, ReadinessCheck>>;
  /** Where admitted images are published (default: `cache`, shared when it is Redis). */
  readonly publicCache?: Cache;
}

export interface VouchServer {
  readonly app: FastifyInstance;
  readonly metrics: ServerMetrics;
  /** Listens on `config.listen` (or `listen` given here); resolves to the bound URL. */
  listen(listen?: string): Promise<string>;
  /** Stops accepting, lets in-flight requests finish (new ones get 503), then closes. */
  close(): Promise<void>;
  readonly tls?: TlsWatcher;
  /** URL of the plain-HTTP probe listener (`server.probeListen`), once listening. */
  probeUrl(): Promise<string | undefined>;
  /** URL of the public listener (`server.publicVerification`), once listening. */
  publicUrl(): string | undefined;
}

function tlsFilesOf(config: ServerConfig): TlsFiles | undefined {
  const { certFile, keyFile, clientCaFile, insecureHttp } = config.tls;
  if (insecureHttp) return undefined;
  if (!certFile || !keyFile) {
    throw new RangeError(
      'HTTPS needs --tls-cert and --tls-key (or server.tls.certFile/keyFile); --insecure-http serves plain HTTP',
    );
  }
  return clientCaFile ? { certFile, keyFile, clientCaFile } : { certFile, keyFile };
}

/** A request slower than this is logged at info (others at debug). */
const SLOW_REQUEST_MS = 1000;

/** Probe and scrape paths: not logged per request. */
const OPEN_PATHS = new Set(['/health', '/ready', '/metrics']);

/** Builds the server (does not listen yet). */
export async function createServer(options: CreateServerOptions): Promise<VouchServer> {
  const { config, logger } = options;
  const metrics = options.metrics ?? createServerMetrics();
  const files = tlsFilesOf(config);
  const initial = files ? await readTlsMaterial(files) : undefined;
  let draining = false;

  const app = Fastify({
    logger: false,
    bodyLimit: config.limits.bodyBytes,
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    keepAliveTimeout: 65_000,
    ...slowClientFastifyOptions,
    ...(initial
      ? {
          https: {
            ...secureContextOptions(initial),
            ...slowClientTlsOptions,
            // mTLS in the handshake: no client certificate signed by the client CA, no connection,
            // on every path. Probes and Prometheus use the plain-HTTP probe listener instead
            // (`server.probeListen`), which serves no decisions.
            requestCert: initial.ca !== undefined,
            rejectUnauthorized: initial.ca !== undefined,
          },
        }
      : {}),
  }) as unknown as FastifyInstance;
  boundSlowClients(app.server);

  let tls: TlsWatcher | undefined;
  if (files && initial) {
    tls = watchTls({
      files,
      initial,
      pollMs: config.tls.pollMs,
      logger,
      apply: (m) => (app.server as HttpsServer).setSecureContext(secureContextOptions(m)),
      onReload: (r) => metrics.tlsReload(r),
    });
  }

  const decisions = createDecisionService({
    engine: options.engine,
    cache: options.cache,
    metrics,
    logger,
    // longer than any request budget: work a request gave up on still finishes and warms the cache
    computeTimeoutMs: Math.max(10_000, config.budgets.validateMs * 4),
    imageConcurrency: config.limits.imageConcurrency,
    cacheEnabled: config.cache.enabled,
    ttlMs: options.decisionTtlMs,
    negativeTtlMs: Math.min(options.decisionTtlMs, config.cache.negativeTtlSeconds * 1000),
    resolveTtlMs: config.cache.resolveTtlSeconds * 1000,
  });

  installOverloadProtection(app, { ...config.limits, metrics });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') metrics.rejected('body-too-large');
    else if (status < 500) metrics.rejected('malformed');
    else logger.error({ reqId: request.id, url: request.url, error: error.message }, 'request failed');
    const message = status < 500 ? error.message : 'internal error';
    if (/^\/(ratify\/)?gatekeeper\//.test(request.url)) {
      return reply.code(status).send(systemErrorResponse(`request rejected: ${message}`));
    }
    return reply.code(status).send({ error: message });
  });
  // one line per request at debug, at info when it failed or was slow: at thousands of warm
  // requests a second a synchronous log write each would cost more than answering them
  app.addHook('onResponse', (request, reply, done) => {
    if (OPEN_PATHS.has(request.url)) return done();
    const duration = reply.elapsedTime;
    const line = {
      reqId: request.id,
      method: request.method,
      url: request.url,
      status: reply.statusCode,
      duration: Math.round(duration),
    };
    if (reply.statusCode >= 400 || duration >= SLOW_REQUEST_MS) logger.info(line, 'request');
    else logger.debug(line, 'request');
    done();
  });

  // remote application verification (docs/remote-verification.md): key and keys read at start
  const pv = config.publicVerification;
  let publicListener: PublicListener | undefined;
  let publish: Parameters<typeof registerAdmissionRoutes>[1]['publish'];
  if (pv.enabled && pv.signingKeyFile) {
    // imported only when enabled: the listener's DSSE signing brings cosign's signer and
    // @sigstore/core, which a server without public verification never uses (idle memory)
    const [{ loadPublicSigningKey }, { createPublicListener }] = await Promise.all([
      import('./public/signing-key.js'),
      import('./public/listener.js'),
    ]);
    const key = await loadPublicSigningKey(pv.signingKeyFile, pv.signingKeyPasswordFile);
    const store = createApplicationStore({
      cache: options.publicCache ?? options.cache,
      ttlMs: pv.ttlSeconds * 1000,
      maxImages: pv.maxImages,
    });
    publicListener = await createPublicListener({ config: pv, store, key, logger });
    publish = { namespaces: pv.namespaces, store, includePodNames: pv.includePodNames, logger };
  }
  const detailKeys = await loadDetailKeys(config.verificationDetails.keys);
  let publicBound: string | undefined;

  const { validateMs, mutateMs } = config.budgets;
  const { maxKeys } = config.limits;
  registerGatekeeperRoutes(app, { decisions, metrics, validateMs, mutateMs, maxKeys });
  registerProvideRoute(app, { decisions, metrics, validateMs, maxKeys });
  registerAdmissionRoutes(app, {
    decisions,
    metrics,
    validateMs,
    mutateMs,
    maxKeys,
    includeNamespaces: config.admission.includeNamespaces,
    excludeNamespaces: config.admission.excludeNamespaces,
    platforms: config.platforms,
    details: { enforceNamespaces: config.verificationDetails.enforceNamespaces, keys: detailKeys },
    ...(publish ? { publish } : {}),
  });
  const checks: Record<string, ReadinessCheck> = {
    config: () => ({ ok: true, details: { generation: options.engine.generation } }),
    cache: () => {
      const s = options.cache.status?.();
      return s ? { ok: true, details: { ...s } } : { ok: true, details: { layers: ['memory'] } };
    },
    ...(tls
      ? {
          tls: () => ({
            ok: true,
            details: { mtls: initial?.ca !== undefined, loadedAt: tls.loadedAt().toISOString() },
          }),
        }
      : {}),
    ...options.readiness,
  };
  registerHealthRoutes(app, { metrics, checks, draining: () => draining });
  // the probe listener: plain HTTP, /health, /ready and /metrics only (never a decision)
  const probes = config.probeListen
    ? (Fastify({ logger: false, ...slowClientFastifyOptions }) as unknown as FastifyInstance)
    : undefined;
  if (probes) boundSlowClients(probes.server);
  if (probes) registerHealthRoutes(probes, { metrics, checks, draining: () => draining });

  return {
    app,
    metrics,
    ...(tls ? { tls } : {}),
    async probeUrl() {
      const address = probes?.server.address();
      return typeof address === 'object' && address ? `http://${address.address}:${address.port}` : undefined;
    },
    publicUrl: () => publicBound,
    async listen(listen?: string) {
      const { host, port } = parseListen(listen ?? config.listen);
      if (probes && config.probeListen) await probes.listen(parseListen(config.probeListen));
      if (publicListener && !publicBound) publicBound = await publicListener.listen();
      await app.listen({ host, port });
      const address = app.server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      return `${files ? 'https' : 'http'}://${shownHost}:${bound}`;
    },
    async close() {
      draining = true;
      tls?.close();
      await app.close();
      await probes?.close();
      await publicListener?.close();
    },
  };
}
