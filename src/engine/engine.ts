/**
 * The engine: reference → registry → referrers → verifiers → policy → decision.
 * It sequences all I/O: verifiers declare what they read of an artifact and get the bytes
 * (run.ts); they never hold the repository.
 */
import { createHash } from 'node:crypto';
import type { Cache } from '../cache/types.js';
import { createLimiter } from '../concurrency.js';
import { VouchError } from '../errors.js';
import { type Logger, silentLogger } from '../observability/logger.js';
import type { Policy } from '../policy/policy.js';
import { formatReference, parseAnyReference } from '../reference/parse.js';
import type { ImageReference, LayoutReference } from '../reference/types.js';
import { discoverArtifacts } from '../referrers/discover.js';
import type { RegistryClient } from '../registry/client.js';
import type { Descriptor } from '../registry/types.js';
import { externalReports } from './external.js';
import { isIndexMediaType, selectPlatforms } from './platforms.js';
import { containerReport } from './reports.js';
import { requireSignature } from './require-signature.js';
import { verifyArtifact, verifyContext } from './run.js';
import type {
  Artifact,
  Decision,
  PlatformResult,
  Report,
  RunContext,
  ScopePolicy,
  Subject,
  Verifier,
  VerifyContext,
} from './types.js';

export interface EngineOptions {
  readonly verifiers: readonly Verifier[];
  readonly policy: Policy;
  readonly registry: RegistryClient;
  readonly cache: Cache;
  readonly logger?: Logger;
  /** Artifacts verified at once, per decision (default 16). */
  readonly concurrency?: number;
  /** How deep to follow artifacts of artifacts (default 2). */
  readonly discoveryDepth?: number;
}

export interface DecideOptions {
  readonly signal: AbortSignal;
  /** Verification time; the wall clock by default. */
  readonly now?: Date;
  /**
   * The platforms the workload runs on (admission: the pod's nodeSelector / node affinity, else
   * `server.platforms`). Replaces the platform list of a rule that has one; `index` and `all`
   * rules are unchanged.
   */
  readonly platforms?: readonly string[];
}

/** The name a policy scope matches: `registry/repository`, or `oci:<dir>` for a layout. */
export function subjectName(ref: ImageReference | LayoutReference): string {
  return 'kind' in ref ? `oci:${ref.dir}` : `${ref.registry}/${ref.repository}`;
}

export class Engine {
  readonly generation: string;
  readonly #options: EngineOptions;
  readonly #logger: Logger;

  constructor(options: EngineOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    const names = options.verifiers.map((v) => v.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw new VouchError('CONFIG_INVALID', `two verifiers are named "${dup}"`);
    this.generation = createHash('sha256')
      .update(options.policy.generation)
      .update(options.verifiers.map((v) => `${v.name}:${v.generation}`).join(','))
      .digest('hex')
      .slice(0, 16);
  }

  /** Resolves `reference` to its subject: repository handle and manifest descriptor. */
  subject(reference: string, signal: AbortSignal): Promise<Subject> {
    return this.#resolveSubject(parseAnyReference(reference), reference, signal);
  }

  /**
   * Resolves a registry image (already parsed) to its subject: one HEAD. The type admits no OCI
   * layout, so a caller serving network keys (the server) can never open a local directory.
   */
  resolveImage(ref: ImageReference, signal: AbortSignal): Promise<Subject> {
    return this.#resolveSubject(ref, formatReference(ref), signal);
  }

  /**
   * The subject of a registry image already resolved to `descriptor` (a cached resolution),
   * without I/O: the repository handle is opened, nothing is fetched. The descriptor must be one
   * this process (or its shared cache) got from `resolveImage`, digest checked.
   */
  imageSubject(ref: ImageReference, descriptor: Descriptor): Subject {
    return {
      name: subjectName(ref),
      reference: ref,
      descriptor,
      repository: this.#options.registry.repository(ref),
    };
  }

  async #resolveSubject(
    ref: ImageReference | LayoutReference,
    written: string,
    signal: AbortSignal,
  ): Promise<Subject> {
    const repository = this.#options.registry.repository(ref);
    const target = ref.digest ?? ref.tag ?? 'latest';
    const descriptor = await repository.resolve(target, { signal });
    if (ref.digest && descriptor.digest !== ref.digest) {
      throw new VouchError(
        'CONTENT_DIGEST_MISMATCH',
        `${written} resolved to ${descriptor.digest}, not the digest it names`,
      );
    }
    return { name: subjectName(ref), reference: ref, descriptor, repository };
  }

  /**
   * Decides whether `reference` may run. Verification failures become reports, never throws;
   * a subject that cannot be resolved (bad reference, unknown tag, unreachable registry) throws.
   */
  async decide(reference: string, options: DecideOptions): Promise<Decision> {
    const subject = await this.subject(reference, options.signal);
    return this.decideSubject(reference, subject, options);
  }

  /** Decides for an already resolved subject (the server resolves first to key its cache by digest). */
  async decideSubject(reference: string, subject: Subject, options: DecideOptions): Promise<Decision> {
    const { policy } = this.#options;
    const rule = policy.select(subject.name);
    const required = new Set(rule.require.map((q) => q.verifier));
    const direct = this.#options.verifiers.filter((v) => required.has(v.name));
    // signatures of content (an SBOM signed by notation) are verified too, below the content
    const signers = new Set([
      ...direct.flatMap((v) => v.signedBy ?? []),
      ...rule.require.flatMap((q) => (q.signedBy ?? []).map((s) => s.verifier)),
    ]);
    const verifiers = this.#options.verifiers.filter((v) => required.has(v.name) || signers.has(v.name));
    // verifiers whose artifacts must be searched for artifacts of their own (their signatures)
    const treeNeeded = new Set([
      ...direct.filter((v) => v.signedBy !== undefined).map((v) => v.name),
      ...rule.require.filter((q) => q.signedBy !== undefined).map((q) => q.verifier),
    ]);
    for (const name of required) {
      if (!verifiers.some((v) => v.name === name)) {
        throw new VouchError(
          'CONFIG_INVALID',
          `policy rule "${rule.name}" requires verifier "${name}", which is not configured`,
        );
      }
    }
    const reportsFor = async (target: Subject): Promise<Report[]> => {
      if (verifiers.length === 0) return [];
      const artifacts = await discoverArtifacts(target.repository, target.descriptor, {
        depth: this.#options.discoveryDepth ?? 2,
        signal: options.signal,
        // round trips: cosign's tags are probed only for a verifier that reads them, and only
        // artifacts no verifier consumes (an SBOM, not a signature), or whose verifier needs their
        // signatures, are searched for artifacts of their own
        cosignTags: verifiers.some((v) => v.usesCosignTags === true),
        descend: (artifact) =>
          verifiers.every((v) => !v.accepts(artifact)) ||
          verifiers.some((v) => treeNeeded.has(v.name) && v.accepts(artifact)),
      });
      const reports = await this.#verifyAll(target, artifacts, verifiers, options);
      // content proven outside the registry (an ATCR hold's scan record), judged like attached content
      const external = await externalReports(target, reports, verifiers, this.#context(target, options));
      return external.length === 0 ? reports : [...reports, ...external];
    };
    const scopes = new Map<string, ScopePolicy>();
    for (const v of verifiers) {
      const sp = v.scopePolicy?.(subject.name);
      if (sp) scopes.set(v.name, sp);
    }
    const facts = {
      reference,
      subject: {
        name: subject.name,
        digest: subject.descriptor.digest,
        mediaType: subject.descriptor.mediaType,
        size: subject.descriptor.size,
      },
      decidedAt: (options.now ?? new Date()).toISOString(),
    };
    if (!rule.isDefault && rule.platforms !== 'index' && isIndexMediaType(subject.descriptor.mediaType)) {
      const { manifest } = await subject.repository.fetchManifest(subject.descriptor, {
        signal: options.signal,
      });
      if (manifest.kind === 'index') {
        const wanted =
          Array.isArray(rule.platforms) && options.platforms ? options.platforms : rule.platforms;
        const selected = selectPlatforms(manifest, wanted);
        const [indexReports, platforms] = await Promise.all([
          rule.verifyIndex ? reportsFor(subject) : Promise.resolve([]),
          Promise.all(
            selected.map(async ({ platform, descriptor }): Promise<PlatformResult> => {
              if (!descriptor)
                return {
                  platform,
                  allowed: rule.mode === 'audit',
                  verified: false,
                  reason: 'platform-missing',
                  why: [`${platform}: the index has no manifest for this platform [platform-missing]`],
                  reports: [],
                };
              const reports = await reportsFor({ ...subject, descriptor });
              const v = policy.decide(rule, reports, scopes);
              return {
                platform,
                digest: descriptor.digest,
                allowed: v.allowed,
                verified: v.verified,
                reason: v.verified ? 'ok' : 'policy',
                why: v.why.map((w) => `${platform}: ${w}`),
                reports,
              };
            }),
          ),
        ]);
        const indexVerdict = rule.verifyIndex ? policy.decide(rule, indexReports, scopes) : undefined;
        const parts = [
          ...platforms.map((p) => ({ allowed: p.allowed, verified: p.verified, why: p.why })),
          ...(indexVerdict ? [{ ...indexVerdict, why: indexVerdict.why.map((w) => `index: ${w}`) }] : []),
        ];
        if (parts.length === 0)
          parts.push({
            allowed: false,
            verified: false,
            why: ['the index has no platform manifests to verify'],
          });
        const verified = parts.every((p) => p.verified);
        return {
          allowed: parts.every((p) => p.allowed),
          verified,
          mode: rule.mode,
          wouldDeny: !verified,
          rule: rule.name,
          why: parts.filter((p) => (verified ? p.verified : !p.verified)).flatMap((p) => p.why),
          ...facts,
          reports: indexReports,
          platforms,
        };
      }
    }
    const reports = await reportsFor(subject);
    const verdict = policy.decide(rule, reports, scopes);
    return { ...verdict, ...facts, reports };
  }

  #run(subject: Subject, options: DecideOptions): RunContext {
    return {
      repository: subject.repository,
      signal: options.signal,
      cache: this.#options.cache,
      now: options.now ?? new Date(),
      logger: this.#logger,
    };
  }

  #context(subject: Subject, options: DecideOptions): VerifyContext {
    return verifyContext(subject.repository, subject, this.#run(subject, options));
  }

  async #verifyAll(
    subject: Subject,
    artifacts: readonly Artifact[],
    verifiers: readonly Verifier[],
    options: DecideOptions,
  ): Promise<Report[]> {
    const limit = createLimiter(this.#options.concurrency ?? 16);
    const ctx = this.#run(subject, options);
    const verifyTree = async (target: Subject, artifact: Artifact): Promise<Report[]> => {
      const nestedSubject: Subject = { ...target, descriptor: artifact.descriptor };
      const nested = async () =>
        (await Promise.all(artifact.referrers.map((a) => verifyTree(nestedSubject, a)))).flat();
      const mine = verifiers.filter((v) => v.accepts(artifact));
      if (mine.length === 0) {
        // an artifact no verifier consumes (an SBOM): its own artifacts (signatures of the SBOM)
        // are verified against it and listed under it, never counted as signatures of the image
        const below = artifact.referrers.length > 0 ? await nested() : [];
        return below.length > 0 ? [containerReport(artifact, below)] : [];
      }
      const below = artifact.referrers.length > 0 ? nested() : Promise.resolve([]);
      return Promise.all(
        mine.map(async (v) => {
          const report = await limit(() => verifyArtifact(v, target, artifact, ctx));
          const withNested = artifact.referrers.length === 0 ? report : { ...report, nested: await below };
          return v.signedBy === undefined ? withNested : requireSignature(v, withNested);
        }),
      );
    };
    const top = await Promise.all(artifacts.map((a) => verifyTree(subject, a)));
    return top.flat();
  }
}
