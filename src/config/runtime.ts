/**
 * Builds what a validated config describes: trust material (loaded and checked once, at start),
 * the verifiers, the policy, the registry client, the cache and the engine.
 * Verifiers never read files themselves; this is the one place trust material is read.
 */

import { createMemoryCache } from '../cache/memory.js';
import type { Cache } from '../cache/types.js';
import { Engine } from '../engine/engine.js';
import type { Verifier } from '../engine/types.js';
import { FORMAT_LIST } from '../formats/index.js';
import { type Logger, silentLogger } from '../observability/logger.js';
import { compilePolicy } from '../policy/policy.js';
import { createRegistryClient, type RegistryClient } from '../registry/client.js';
import type { RemoteRegistryOptions } from '../registry/remote/options.js';
import { buildCredentialStore } from './credentials.js';
import type { VouchConfig } from './schema.js';

export interface Runtime {
  readonly config: VouchConfig;
  readonly engine: Engine;
  readonly registry: RegistryClient;
  readonly cache: Cache;
  readonly verifiers: readonly Verifier[];
  close(): Promise<void>;
}

export interface RuntimeOptions {
  readonly baseDir: string;
  readonly logger?: Logger;
  /** A cache built by the caller (the server's layered cache); memory by default. */
  readonly cache?: Cache;
  /** Observes every registry HTTP request (metrics, benchmarks). */
  readonly onRegistryRequest?: RemoteRegistryOptions['onRequest'];
}

/**
 * Loads every configured verifier's trust material and builds the verifiers, in the order of the
 * format list (src/formats/index.ts). Each format's code is imported only when the config names
 * it (the CLI starts faster with one verifier than with three).
 */
export async function buildVerifiers(config: VouchConfig, baseDir: string): Promise<Verifier[]> {
  const sections: Readonly<Record<string, unknown>> = config.verifiers;
  const configured = FORMAT_LIST.filter((f) => sections[f.name] !== undefined);
  // content verifiers: a report counts only when signed by one of the signature verifiers
  const signatureFormats = configured.filter((f) => f.kind === 'signature').map((f) => f.name);
  const defaultSigners = signatureFormats.length > 0 ? signatureFormats : ['notation', 'cosign'];
  return Promise.all(
    configured.map((format) =>
      format.build(sections[format.name], {
        baseDir,
        configPath: `verifiers.${format.name}`,
        defaultSigners,
      }),
    ),
  );
}

export async function buildRuntime(config: VouchConfig, options: RuntimeOptions): Promise<Runtime> {
  const logger = options.logger ?? silentLogger;
  const verifiers = await buildVerifiers(config, options.baseDir);
  const policy = compilePolicy(config.policy);
  const registry = createRegistryClient({
    insecureHosts: config.registries.insecure,
    caFiles: config.registries.caFiles,
    allowPrivateNetwork: config.registries.allowPrivateNetwork,
    perHostConcurrency: config.registries.perHostConcurrency,
    credentials: await buildCredentialStore(config.registries, options.baseDir),
    logger,
    ...(options.onRegistryRequest ? { onRequest: options.onRegistryRequest } : {}),
  });
  const cache =
    options.cache ??
    createMemoryCache({
      maxEntries: config.cache.maxEntries,
      maxBytes: config.cache.maxBytes,
      defaultTtlMs: config.cache.ttlSeconds * 1000,
    });
  const engine = new Engine({
    verifiers,
    policy,
    registry,
    cache,
    logger,
    concurrency: config.engine.concurrency,
    discoveryDepth: config.engine.discoveryDepth,
  });
  return {
    config,
    engine,
    registry,
    cache,
    verifiers,
    close: () => registry.close(),
  };
}
