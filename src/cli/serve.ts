/**
 * `vouch serve`: the verification server (Gatekeeper external data, /provide, admission webhooks).
 * Configuration precedence: flag > environment > vouch.yaml > default (docs/server.md).
 * HTTPS by default; `--insecure-http` for local use only. SIGTERM/SIGINT drain in-flight requests.
 */
import type { Command } from 'commander';
import { createMemoryCache } from '../cache/memory.js';
import type { Cache } from '../cache/types.js';
import { composeConfig } from '../config/compose.js';
import { readConfigInput } from '../config/load.js';
import { buildRuntime } from '../config/runtime.js';
import type { VouchConfig } from '../config/schema.js';
import { createLogger, type Logger } from '../observability/logger.js';
import {
  createServerMetrics,
  type RegistryRequestEvent,
  type ServerMetrics,
} from '../observability/metrics.js';
import { parseServerConfig } from '../server/config.js';
import { configFromEnv } from '../server/env.js';
import { reexecWithServerNodeFlags } from '../server/node-flags.js';
import { createServer } from '../server/server.js';
import { collect } from './io.js';
import { addTrustOptions, trustFlagsFrom } from './trust-options.js';

interface ServeOptions extends Record<string, unknown> {
  config?: string;
  listen?: string;
  probeListen?: string;
  tlsCert?: string;
  tlsKey?: string;
  clientCa?: string;
  insecureHttp?: boolean;
  atprotoPolicy?: string;
}

/**
 * The cache the config asks for: memory, or memory in front of Redis. The Redis client (ioredis)
 * is imported only when Redis is configured: loading it costs ~2 MiB of heap and more of code.
 */
export async function buildServerCache(
  config: VouchConfig,
  logger: Logger,
  metrics: ServerMetrics,
): Promise<Cache & { close?(): Promise<void> }> {
  const memory = createMemoryCache({
    maxEntries: config.cache.maxEntries,
    maxBytes: config.cache.maxBytes,
    defaultTtlMs: config.cache.ttlSeconds * 1000,
  });
  if (config.cache.type !== 'redis' || !config.cache.redis) return memory;
  const [{ createRedisCache }, { createLayeredCache }] = await Promise.all([
    import('../cache/redis.js'),
    import('../cache/layered.js'),
  ]);
  const redis = createRedisCache({
    url: config.cache.redis.url,
    keyPrefix: config.cache.redis.keyPrefix,
    defaultTtlMs: config.cache.ttlSeconds * 1000,
    logger,
  });
  return createLayeredCache({ memory, redis, logger, observer: metrics.cacheObserver });
}

/** Server flags override the `server:` section (which already holds file and environment values). */
function serverSection(config: VouchConfig, opts: ServeOptions): unknown {
  const section = structuredClone(config.server) as Record<string, unknown>;
  const tls = { ...((section.tls as Record<string, unknown> | undefined) ?? {}) };
  if (opts.tlsCert) tls.certFile = opts.tlsCert;
  if (opts.tlsKey) tls.keyFile = opts.tlsKey;
  if (opts.clientCa) tls.clientCaFile = opts.clientCa;
  if (opts.insecureHttp) tls.insecureHttp = true;
  section.tls = tls;
  if (opts.listen) section.listen = opts.listen;
  if (opts.probeListen) section.probeListen = opts.probeListen;
  return section;
}

export function register(program: Command): void {
  addTrustOptions(
    program.command('serve').description('serve Gatekeeper external data, /provide and admission webhooks'),
  )
    .option('--listen <host:port>', 'address to listen on (default 0.0.0.0:8443, or HTTP_PORT)')
    .option(
      '--probe-listen <host:port>',
      'plain-HTTP listener for /health, /ready and /metrics only (probes, Prometheus)',
    )
    .option('--tls-cert <file>', 'server certificate chain (PEM), reloaded when it changes')
    .option('--tls-key <file>', 'server private key (PEM), reloaded when it changes')
    .option('--client-ca <file>', 'require client certificates signed by this CA (mTLS; Gatekeeper ca.crt)')
    .option('--insecure-http', 'serve plain HTTP (local use only)')
    .option(
      '--ratify-config <file>',
      'Ratify config.json or v1beta1 CR YAML, instead of --config (repeatable)',
      collect,
      [],
    )
    .action(async (opts: ServeOptions) => {
      // before anything else: V8's heap flags only apply at start (src/server/node-flags.ts)
      reexecWithServerNodeFlags();
      opts.config = await (await import('../import/runtime.js')).configFromRatify(opts);
      let atprotoConfigured = Boolean(opts.atprotoPolicy);
      if (opts.config) {
        const { raw } = await readConfigInput(opts.config);
        atprotoConfigured ||= Boolean((raw.verifiers as Record<string, unknown> | undefined)?.atproto);
      }
      const loaded = await composeConfig({
        ...(opts.config ? { configFile: opts.config } : {}),
        environment: configFromEnv(process.env, { atprotoConfigured }),
        flags: trustFlagsFrom(opts),
      });
      const serverConfig = parseServerConfig(serverSection(loaded.config, opts), loaded.source);
      if (serverConfig.tls.insecureHttp) {
        process.stderr.write(
          'vouch: WARNING: --insecure-http: serving plain HTTP; Gatekeeper requires HTTPS\n',
        );
      }
      const logger = createLogger({ level: serverConfig.logLevel });
      const metrics = createServerMetrics();
      const cache = await buildServerCache(loaded.config, logger, metrics);
      const runtime = await buildRuntime(loaded.config, {
        baseDir: loaded.baseDir,
        logger,
        cache,
        onRegistryRequest: (e: RegistryRequestEvent) => metrics.onRegistryRequest(e),
      });
      const server = await createServer({
        engine: runtime.engine,
        cache,
        logger,
        config: serverConfig,
        decisionTtlMs: loaded.config.cache.ttlSeconds * 1000,
        metrics,
        readiness: {
          trust: () => ({
            ok: runtime.verifiers.length > 0,
            details: { verifiers: runtime.verifiers.map((v) => v.name) },
          }),
        },
      });
      const url = await server.listen();
      logger.info(
        { url, mtls: Boolean(serverConfig.tls.clientCaFile), generation: runtime.engine.generation },
        'serving',
      );
      process.stderr.write(`vouch: serving on ${url}\n`);
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          logger.info({ signal }, 'draining');
          void (async () => {
            await server.close();
            await runtime.close();
            await cache.close?.();
            resolve();
          })();
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
    });
}
