/**
 * Builds what a validated config describes: trust material (loaded and checked once, at start),
 * the verifiers, the policy, the registry client, the cache and the engine.
 * Verifiers never read files themselves; this is the one place trust material is read.
 */

import { createMemoryCache } from '../cache/memory.js';
import type { Cache } from '../cache/types.js';
import { Engine } from '../engine/engine.js';
import type { Verifier } from '../engine/types.js';
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
 * Loads every configured verifier's trust material and builds the verifiers. Each format's code is
 * imported only when the config names it (the CLI starts faster with one verifier than with three).
 */
export async function buildVerifiers(config: VouchConfig, baseDir: string): Promise<Verifier[]> {
  const v = config.verifiers;
  const built: Array<Promise<Verifier>> = [];
  if (v.notation) {
    const notation = v.notation;
    built.push(
      (async () => {
        const [{ loadNotationTrust }, { createNotationVerifier }] = await Promise.all([
          import('../trust/notation/load.js'),
          import('../verifiers/notation/index.js'),
        ]);
        return createNotationVerifier(
          await loadNotationTrust(notation, { baseDir, configPath: 'verifiers.notation' }),
        );
      })(),
    );
  }
  if (v.cosign) {
    const cosign = v.cosign;
    built.push(
      (async () => {
        const [{ loadCosignTrust }, { createCosignVerifier }] = await Promise.all([
          import('../trust/cosign/load.js'),
          import('../verifiers/cosign/index.js'),
        ]);
        return createCosignVerifier(
          await loadCosignTrust(cosign, { baseDir, configPath: 'verifiers.cosign' }),
        );
      })(),
    );
  }
  if (v.atproto) {
    const atproto = v.atproto;
    built.push(
      (async () => {
        const [{ loadAtprotoTrust }, { createAtprotoVerifier }] = await Promise.all([
          import('../trust/atproto/load.js'),
          import('../verifiers/atproto/index.js'),
        ]);
        return createAtprotoVerifier(
          await loadAtprotoTrust(atproto, { baseDir, configPath: 'verifiers.atproto' }),
        );
      })(),
    );
  }
  // content verifiers: a report counts only when signed by one of the signature verifiers
  const signatureVerifiers = (['notation', 'cosign', 'atproto'] as const).filter((name) => v[name]);
  const signedBy = (requireSignature: readonly string[] | undefined) =>
    requireSignature ?? (signatureVerifiers.length > 0 ? signatureVerifiers : ['notation', 'cosign']);
  if (v.vulnerabilityReport) {
    const settings = v.vulnerabilityReport;
    built.push(
      import('../verifiers/vulnerability-report/index.js').then((m) =>
        m.createVulnerabilityReportVerifier(settings, signedBy(settings.requireSignature)),
      ),
    );
  }
  if (v.sbom) {
    const settings = v.sbom;
    built.push(
      import('../verifiers/sbom/index.js').then((m) =>
        m.createSbomVerifier(settings, signedBy(settings.requireSignature)),
      ),
    );
  }
  return Promise.all(built);
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
