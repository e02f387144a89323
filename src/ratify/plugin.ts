/**
 * `vouch ratify-plugin`: one Ratify verifier plugin call (protocol.ts). The Verifier's `verifier`
 * parameter names the vouch verifier (notation, cosign, atproto, sbom, vulnerabilityReport; else
 * its `type`, else its `name`), `vouchConfig` the vouch.yaml holding its trust material. The
 * ATCR seed's parameters (`trustPolicyPath`, `didResolverTimeout`, `pdsTimeout`, `cacheEnabled`,
 * `cacheTTL`) configure the atproto verifier with or without a vouch.yaml. Content verifiers also
 * verify the content's own signatures (its referrers), as in vouch itself.
 *
 * A plugin is a new process per artifact, so the in-memory cache dies with it: with
 * `cache.type: redis` in vouch.yaml, DID documents and PDS lookups are shared through Redis.
 * Registry credentials are never cached outside the process.
 */
import { composeConfig } from '../config/compose.js';
import { parseDuration } from '../config/duration.js';
import { buildRuntime, type Runtime } from '../config/runtime.js';
import type { VouchConfig, VouchConfigInput } from '../config/schema.js';
import { reportFromError } from '../engine/reports.js';
import { requireSignature } from '../engine/require-signature.js';
import { verifyArtifact } from '../engine/run.js';
import type { Artifact, Report, RunContext, Subject, Verifier } from '../engine/types.js';
import { isVouchError } from '../errors.js';
import { FORMAT_LIST } from '../formats/index.js';
import { silentLogger } from '../observability/logger.js';
import { parseReference } from '../reference/parse.js';
import { discoverArtifacts } from '../referrers/discover.js';
import { MediaTypes } from '../verifiers/cosign/constants.js';
import {
  PluginErrorCode,
  type PluginInput,
  parsePluginInput,
  RatifyPluginError,
  readPluginArgs,
  type VerifierResult,
} from './protocol.js';
import { toVerifierResult } from './result.js';
import { registriesFromStore } from './store.js';

/** vouch verifier names, and the Ratify `type` spellings that mean them. */
const VERIFIER_NAMES: Readonly<Record<string, string>> = {
  notation: 'notation',
  cosign: 'cosign',
  atproto: 'atproto',
  sbom: 'sbom',
  vulnerabilityReport: 'vulnerabilityReport',
  vulnerabilityreport: 'vulnerabilityReport',
};

const DEFAULT_TIMEOUT_MS = 30_000;

export interface PluginRun {
  readonly stdout: string;
  readonly exitCode: 0 | 1;
}

function verifierNameOf(config: PluginInput['config']): string {
  const asked = [config.verifier, config.type, config.name].find(
    (v) => typeof v === 'string' && v in VERIFIER_NAMES,
  );
  if (typeof asked !== 'string')
    throw new RatifyPluginError(
      PluginErrorCode.InvalidVerifierConfig,
      `no vouch verifier named: set the "verifier" parameter to one of notation, cosign, atproto, sbom, vulnerabilityReport (got verifier=${JSON.stringify(config.verifier ?? null)}, type=${JSON.stringify(config.type ?? null)})`,
    );
  return VERIFIER_NAMES[asked] as string;
}

function duration(config: PluginInput['config'], key: string): number | undefined {
  const v = config[key];
  if (v === undefined || v === null || v === '') return undefined;
  try {
    return typeof v === 'number' ? v * 1000 : parseDuration(String(v), key);
  } catch (err) {
    throw new RatifyPluginError(
      PluginErrorCode.InvalidVerifierConfig,
      `parameter ${key}: ${(err as Error).message}`,
    );
  }
}

/** The ATCR seed's Verifier parameters as `verifiers.atproto` settings (they win over vouch.yaml). */
function atprotoParameters(config: PluginInput['config']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (typeof config.trustPolicyPath === 'string') out.trustPolicyFile = config.trustPolicyPath;
  const did = duration(config, 'didResolverTimeout');
  if (did !== undefined) out.didResolverTimeoutMs = did;
  const pds = duration(config, 'pdsTimeout');
  if (pds !== undefined) out.pdsTimeoutMs = pds;
  const ttl = duration(config, 'cacheTTL');
  if (config.cacheEnabled === false || config.cacheEnabled === 'false') out.cacheTtlSeconds = 0;
  else if (ttl !== undefined) out.cacheTtlSeconds = Math.round(ttl / 1000);
  if (typeof config.plcUrl === 'string') out.plcUrl = config.plcUrl;
  if (config.allowPrivateNetwork === true || config.allowPrivateNetwork === 'true')
    out.allowPrivateNetwork = true;
  return out;
}

async function loadConfig(
  input: PluginInput,
  verifier: string,
  host: string,
): Promise<{ config: VouchConfig; baseDir: string }> {
  const file = input.config.vouchConfig;
  const atproto = verifier === 'atproto' ? atprotoParameters(input.config) : {};
  if (typeof file !== 'string' && atproto.trustPolicyFile === undefined)
    throw new RatifyPluginError(
      PluginErrorCode.InvalidVerifierConfig,
      `the "vouchConfig" parameter (a vouch.yaml with the ${verifier} verifier's trust material) is required${verifier === 'atproto' ? ', or "trustPolicyPath"' : ''}`,
    );
  const environment: VouchConfigInput =
    Object.keys(atproto).length > 0 ? { verifiers: { atproto } as VouchConfigInput['verifiers'] } : {};
  const loaded = await composeConfig({
    ...(typeof file === 'string' ? { configFile: file } : {}),
    environment,
  });
  const registries = registriesFromStore(input.storeConfig.store, host);
  const config = structuredClone(loaded.config) as VouchConfig & {
    registries: { insecure: string[]; dockerConfig: unknown };
  };
  if (registries.insecure)
    config.registries.insecure = [...new Set([...config.registries.insecure, ...registries.insecure])];
  if (registries.dockerConfig !== undefined) config.registries.dockerConfig = registries.dockerConfig;
  return { config, baseDir: loaded.baseDir };
}

/** The signature formats of the format list (config/schema.ts loads the list anyway). */
const SIGNATURE_VERIFIERS: ReadonlySet<string> = new Set(
  FORMAT_LIST.filter((f) => f.kind === 'signature').map((f) => f.name),
);

/**
 * A plugin call runs one verifier, so only its trust material is loaded and only its code imported
 * (cold start: each process pays for every format it builds). A content verifier keeps the
 * signature verifiers too: they verify the report's own signatures and are its default signers.
 */
function onlyNeededVerifiers(config: VouchConfig, name: string): VouchConfig {
  if (!SIGNATURE_VERIFIERS.has(name)) return config;
  const verifiers = config.verifiers as Record<string, unknown>;
  return { ...config, verifiers: { [name]: verifiers[name] } as VouchConfig['verifiers'] };
}

/** The cache the config asks for: memory, or memory in front of Redis (shared across calls). */
async function pluginCache(config: VouchConfig) {
  const { createMemoryCache } = await import('../cache/memory.js');
  const memory = createMemoryCache({ maxEntries: 1000, defaultTtlMs: config.cache.ttlSeconds * 1000 });
  if (config.cache.type !== 'redis' || !config.cache.redis) return { cache: memory, close: async () => {} };
  const [{ createRedisCache }, { createLayeredCache }] = await Promise.all([
    import('../cache/redis.js'),
    import('../cache/layered.js'),
  ]);
  const redis = createRedisCache({
    url: config.cache.redis.url,
    keyPrefix: config.cache.redis.keyPrefix,
    defaultTtlMs: config.cache.ttlSeconds * 1000,
    logger: silentLogger,
  });
  return { cache: createLayeredCache({ memory, redis, logger: silentLogger }), close: () => redis.close() };
}

function artifactOf(input: PluginInput): Artifact {
  const d = input.referenceDesc;
  // Ratify's oras store lists cosign's tag-schema signature (`sha256-<hex>.sig`) with this type
  const kind = d.artifactType === MediaTypes.cosignArtifactSignature ? 'cosign-signature' : 'referrer';
  return { descriptor: { ...d }, kind, source: 'referrers-api', referrers: [] };
}

/** The content's own signatures (referrers of the report), verified against the report. */
async function withSignatures(
  verifier: Verifier,
  report: Report,
  subject: Subject,
  artifact: Artifact,
  runtime: Runtime,
  ctx: RunContext,
): Promise<Report> {
  if (!verifier.signedBy || verifier.signedBy.length === 0 || report.outcome !== 'verified') return report;
  const signers = runtime.verifiers.filter((v) => verifier.signedBy?.includes(v.name));
  const below = await discoverArtifacts(subject.repository, artifact.descriptor, {
    depth: 1,
    signal: ctx.signal,
    cosignTags: signers.some((v) => v.usesCosignTags === true),
  });
  const target: Subject = { ...subject, descriptor: artifact.descriptor };
  const nested = await Promise.all(
    below.flatMap((a) => signers.filter((v) => v.accepts(a)).map((v) => verifyArtifact(v, target, a, ctx))),
  );
  return requireSignature(verifier, { ...report, nested });
}

async function verifyOnce(
  env: Readonly<Record<string, string | undefined>>,
  stdin: string,
): Promise<VerifierResult> {
  const args = readPluginArgs(env);
  const input = parsePluginInput(stdin);
  const name = verifierNameOf(input.config);
  let host: string;
  try {
    const ref = parseReference(args.subject);
    host = ref.registry;
  } catch (err) {
    throw new RatifyPluginError(
      PluginErrorCode.ArgsParsingFailure,
      `cannot parse subject reference ${args.subject.slice(0, 200)}`,
      (err as Error).message,
    );
  }
  const loaded = await loadConfig(input, name, host);
  const { baseDir } = loaded;
  const config = onlyNeededVerifiers(loaded.config, name);
  const { cache, close } = await pluginCache(config);
  const runtime = await buildRuntime(config, { baseDir, cache });
  const signal = AbortSignal.timeout(duration(input.config, 'timeout') ?? DEFAULT_TIMEOUT_MS);
  try {
    const verifier = runtime.verifiers.find((v) => v.name === name);
    if (!verifier)
      throw new RatifyPluginError(
        PluginErrorCode.InvalidVerifierConfig,
        `${String(input.config.vouchConfig ?? 'the plugin config')} configures no ${name} verifier`,
      );
    const artifact = artifactOf(input);
    const subject = await runtime.engine.subject(args.subject, signal);
    const ctx: RunContext = {
      repository: subject.repository,
      signal,
      cache,
      now: new Date(),
      logger: silentLogger,
    };
    let report: Report;
    if (!verifier.accepts(artifact)) {
      report = {
        ...reportFromError(name, artifact, new Error('unsupported artifact'), signal),
        outcome: 'failed',
        reason: 'unsupported',
        message: `the vouch ${name} verifier does not read artifacts of type ${artifact.descriptor.artifactType ?? artifact.descriptor.mediaType}`,
      };
    } else {
      report = await verifyArtifact(verifier, subject, artifact, ctx);
      report = await withSignatures(verifier, report, subject, artifact, runtime, ctx);
    }
    return toVerifierResult(input.config, name, report);
  } finally {
    await runtime.close();
    await close();
  }
}

/** Runs one plugin call: the VerifierResult and exit 0, or Ratify's plugin error and exit 1. */
export async function runRatifyPlugin(
  env: Readonly<Record<string, string | undefined>>,
  stdin: string,
): Promise<PluginRun> {
  try {
    const result = await verifyOnce(env, stdin);
    return { stdout: `${JSON.stringify(result)}\n`, exitCode: 0 };
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    const e =
      err instanceof RatifyPluginError
        ? err
        : isVouchError(err) && (err.code === 'CONFIG_INVALID' || err.code === 'USAGE')
          ? new RatifyPluginError(PluginErrorCode.InvalidVerifierConfig, 'invalid verifier config', detail)
          : new RatifyPluginError(PluginErrorCode.PluginCmdFailure, 'plugin command VERIFY failed', detail);
    return { stdout: JSON.stringify(e.toJSON(), null, 4), exitCode: 1 };
  }
}
