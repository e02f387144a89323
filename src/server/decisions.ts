/**
 * The server's path to a decision for one image key, shared by every endpoint:
 *
 *   key → parsed once (a registry reference; an `oci:` layout key is refused) → resolve tag to
 *   its manifest descriptor (cached briefly) → decision cache keyed by `engine.generation` +
 *   subject name + digest (never by tag) → engine.decideSubject.
 *
 * The cached resolution keeps the whole descriptor, so a cached resolution whose decision expired
 * rebuilds the subject without I/O (`engine.imageSubject`): no request but the verification's own.
 *
 * Identical in-flight work is shared (the cache's single-flight, and one task per key in this
 * process), so a hundred pods of one Deployment cost one verification. An image that needs the
 * registry runs as one image task (image-tasks.ts): one `imageConcurrency` slot and one deadline
 * of its own for its tag's HEAD and its verification, not the deadline of the request that
 * happened to start it: a request whose budget ends earlier stops waiting (its key gets
 * `timeout`), while the work completes and warms the cache for Gatekeeper's retry (the computation
 * deadline is the larger of 10 s and 4 × the validate budget). Images are numbered as they start,
 * and a registry host's waiting requests are served lowest number first, so under a
 * registry-bound batch images finish one after another instead of all together at the end.
 *
 * Only decisions with no inconclusive report are cached (a timeout or an unreachable registry must
 * not be remembered as an answer); denials live `negativeTtlMs`, allows `ttlMs`.
 */
import type { Cache } from '../cache/types.js';
import type { Decision, Report, Subject } from '../engine/types.js';
import { TRANSIENT_CODES, toVouchError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { ServerMetrics } from '../observability/metrics.js';
import { parseReference, pinnedReference } from '../reference/parse.js';
import type { ImageReference } from '../reference/types.js';
import { withRegistryPriority } from '../registry/client.js';
import type { Descriptor } from '../registry/types.js';
import { compactValue } from './compact.js';
import { createImageTasks } from './image-tasks.js';

/**
 * What the server needs of the engine (the real `Engine` satisfies it). It takes parsed registry
 * references only: no method here can open a local OCI layout.
 */
export interface DecisionEngine {
  readonly generation: string;
  /** Resolves a registry image to its subject (one HEAD). */
  resolveImage(ref: ImageReference, signal: AbortSignal): Promise<Subject>;
  /** The subject of an image already resolved to `descriptor`, without I/O. */
  imageSubject(ref: ImageReference, descriptor: Descriptor): Subject;
  decideSubject(
    reference: string,
    subject: Subject,
    options: { signal: AbortSignal; now?: Date; platforms?: readonly string[] },
  ): Promise<Decision>;
}

/** A key that could not be decided or pinned: a stable code, and whether a retry may succeed. */
export interface KeyError {
  readonly kind: 'error';
  readonly code: string;
  readonly message: string;
  readonly transient: boolean;
}

/** The outcome for one key: a decision, or an error with a stable code. */
export type KeyResult =
  | { readonly kind: 'decision'; readonly decision: Decision; readonly cached: boolean }
  | KeyError;

/** A key pinned to its digest (`name@sha256:…`), or why it could not be. */
export type PinResult =
  | { readonly kind: 'pinned'; readonly reference: string; readonly digest: string }
  | KeyError;

/**
 * A resolved key, as cached under `resolve:<key>`: the subject name and the manifest descriptor
 * the key resolved to. `name` and `digest` keep the shape earlier versions wrote (a shared Redis
 * cache may hold either during a rolling upgrade); an entry without `mediaType` and `size` was
 * written by one of them, and its subject is resolved again by digest.
 */
type Resolution = { readonly name: string } & Descriptor;

export interface DecisionServiceOptions {
  readonly engine: DecisionEngine;
  readonly cache: Cache;
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
  /** Deadline of one computation, ms (longer than any request budget). */
  readonly computeTimeoutMs: number;
  readonly imageConcurrency: number;
  readonly cacheEnabled: boolean;
  readonly ttlMs: number;
  readonly negativeTtlMs: number;
  readonly resolveTtlMs: number;
}

export interface DecisionService {
  /**
   * Decides `reference` (already stripped of any `[namespace]` prefix) within `signal`. The
   * decision may be shared with other keys naming the same image (its `reference` is the key that
   * computed it); treat it as immutable.
   */
  decide(reference: string, signal: AbortSignal, platforms?: readonly string[]): Promise<KeyResult>;
  /**
   * The warm path: the decision for `reference` when both its tag resolution and its decision are
   * in the in-process cache, synchronously (no promise, no registry); undefined otherwise, and
   * the caller goes on to `decide`. Counted in metrics like a cached `decide`.
   */
  peek(reference: string): KeyResult | undefined;
  /** Resolves `reference` to `name@digest` within `signal`. */
  pin(reference: string, signal: AbortSignal): Promise<PinResult>;
  /** `pin` answered synchronously (a digest reference, or a cached resolution); undefined otherwise. */
  peekPin(reference: string): PinResult | undefined;
}

const hasInconclusive = (reports: readonly Report[]): boolean =>
  reports.some((r) => r.outcome === 'inconclusive' || hasInconclusive(r.nested));

/** Waits for `work` or the request's `signal`, whichever is first. */
function raceSignal<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Turns anything thrown while deciding into a per-key error. */
export function errorResult(err: unknown, signal: AbortSignal): KeyError {
  if (signal.aborted) {
    return {
      kind: 'error',
      code: 'timeout',
      message: 'timeout: the request budget ran out before this image was decided',
      transient: true,
    };
  }
  const e = toVouchError(err);
  const transient = TRANSIENT_CODES.has(e.code);
  const code = e.code === 'DEADLINE_EXCEEDED' || e.code === 'ABORTED' ? 'timeout' : e.code;
  return { kind: 'error', code, message: `${code}: ${e.message}`, transient };
}

const NEVER_ABORTED = new AbortController().signal;

/** The descriptor of a cached resolution; undefined for an entry an earlier version wrote. */
function descriptorOf(resolution: Resolution): Descriptor | undefined {
  if (typeof resolution.mediaType !== 'string' || typeof resolution.size !== 'number') return undefined;
  const { name: _name, ...descriptor } = resolution;
  return descriptor;
}

export function createDecisionService(options: DecisionServiceOptions): DecisionService {
  const { engine, cache, metrics, logger } = options;
  const cachingResolutions = options.cacheEnabled && options.resolveTtlMs > 0;
  const decisionTtl = (d: Decision): number => {
    // a platform's inconclusive report (multi-arch rules) is as uncacheable as the image's own
    if (hasInconclusive(d.reports) || d.platforms?.some((p) => hasInconclusive(p.reports))) return 0;
    return d.allowed && !d.wouldDeny ? options.ttlMs : options.negativeTtlMs;
  };

  const imageTask = createImageTasks({
    concurrency: options.imageConcurrency,
    timeoutMs: options.computeTimeoutMs,
    shared: options.cacheEnabled,
  });

  const resolutionKey = (reference: string): string => `resolve:${reference}`;
  const peekResolution = (reference: string): Resolution | undefined =>
    cachingResolutions ? cache.peek?.<Resolution>(resolutionKey(reference)) : undefined;

  /** The key's resolution (cached `resolveTtlMs`), with its subject when this call resolved it. */
  const resolve = async (
    ref: ImageReference,
    reference: string,
    signal: AbortSignal,
  ): Promise<{ resolution: Resolution; subject?: Subject }> => {
    let subject: Subject | undefined;
    const fetch = async (): Promise<Resolution> => {
      const fetched = await engine.resolveImage(ref, signal);
      subject = fetched;
      // kept for resolveTtlMs: flat copies, the name shared by every image of its repository
      return compactValue({ name: fetched.name, ...fetched.descriptor });
    };
    const resolution = cachingResolutions
      ? await cache.getOrCompute<Resolution>(resolutionKey(reference), options.resolveTtlMs, fetch)
      : await fetch();
    return subject ? { resolution, subject } : { resolution };
  };

  /** The subject of a cached resolution: rebuilt from its descriptor, no I/O. */
  const subjectOf = (ref: ImageReference, resolution: Resolution, signal: AbortSignal): Promise<Subject> => {
    const descriptor = descriptorOf(resolution);
    if (descriptor) return Promise.resolve(engine.imageSubject(ref, descriptor));
    // an entry an earlier version wrote (name and digest only): its digest is resolved (one HEAD)
    const pinned: ImageReference = {
      registry: ref.registry,
      repository: ref.repository,
      digest: resolution.digest,
    };
    return engine.resolveImage(pinned, signal);
  };

  const compute = async (
    reference: string,
    subject: Subject,
    signal: AbortSignal,
    platforms?: readonly string[],
  ): Promise<Decision> => {
    const started = performance.now();
    const decision = await engine.decideSubject(reference, subject, {
      signal,
      ...(platforms ? { platforms } : {}),
    });
    metrics.freshDecision(decision);
    logger.info(
      {
        image: reference,
        digest: decision.subject.digest,
        allowed: decision.allowed,
        verified: decision.verified,
        rule: decision.rule,
        verifiers: decision.reports.map((r: Report) => `${r.verifier}:${r.outcome}:${r.reason}`),
        duration: Math.round(performance.now() - started),
      },
      'decided',
    );
    // what the cache keeps: a compact copy (src/server/compact.ts)
    return options.cacheEnabled ? compactValue(decision) : decision;
  };

  let nextPriority = 0;
  // a decision for given platforms (admission) is its own entry: platform lists change the answer
  const platformSuffix = (platforms?: readonly string[]): string =>
    platforms ? `|${platforms.join(',')}` : '';
  const decisionKey = (resolution: Resolution, platforms?: readonly string[]): string =>
    `decision:${engine.generation}:${resolution.name}@${resolution.digest}${platformSuffix(platforms)}`;

  /** The decision for a parsed key: from the cache, else in one image task. */
  const decideImage = async (
    reference: string,
    ref: ImageReference,
    platforms?: readonly string[],
  ): Promise<{ decision: Decision; cached: boolean }> => {
    const known = peekResolution(reference);
    // both answers in this process: no slot, no registry
    const hit = known && cache.peek?.<Decision>(decisionKey(known, platforms));
    if (hit) return { decision: hit, cached: true };
    const { task, joined } = imageTask(`decide:${reference}${platformSuffix(platforms)}`, async (signal) => {
      const { resolution, subject } = known ? { resolution: known } : await resolve(ref, reference, signal);
      const run = async () =>
        compute(reference, subject ?? (await subjectOf(ref, resolution, signal)), signal, platforms);
      if (!options.cacheEnabled) return { decision: await run(), cached: false };
      let fresh = false;
      const decision = await cache.getOrCompute<Decision>(
        decisionKey(resolution, platforms),
        decisionTtl,
        () => {
          fresh = true;
          return run();
        },
      );
      return { decision, cached: !fresh };
    });
    const result = await task;
    return joined ? { decision: result.decision, cached: true } : result;
  };

  return {
    peek(reference) {
      if (!options.cacheEnabled || options.resolveTtlMs <= 0 || !cache.peek) return undefined;
      const resolution = cache.peek<Resolution>(resolutionKey(reference));
      if (!resolution) return undefined;
      const decision = cache.peek<Decision>(decisionKey(resolution));
      if (!decision) return undefined;
      metrics.cachedDecision(decision);
      return { kind: 'decision', decision, cached: true };
    },
    async decide(reference, signal, platforms) {
      const started = performance.now();
      try {
        // the one parse of the key: a registry reference, so no key can name a local OCI layout
        // (`oci:/path` is refused here with REFERENCE_INVALID, and the engine seam takes no other)
        const ref = parseReference(reference);
        // registry requests of images started earlier go first (registry/remote/priority.ts)
        const work = withRegistryPriority(nextPriority++, () => decideImage(reference, ref, platforms));
        const { decision, cached } = await raceSignal(work, signal);
        metrics.decisionCache(cached);
        metrics.decision(decision, (performance.now() - started) / 1000);
        return { kind: 'decision', decision, cached };
      } catch (err) {
        const result = errorResult(err, signal);
        if (result.kind === 'error') {
          metrics.imageError(result.code === 'timeout' ? 'timeout' : 'error');
          logger.warn({ image: reference, error: result.message }, 'image not decided');
        }
        return result;
      }
    },
    peekPin(reference) {
      const resolution = peekResolution(reference);
      if (resolution)
        return {
          kind: 'pinned',
          reference: `${resolution.name}@${resolution.digest}`,
          digest: resolution.digest,
        };
      try {
        const parsed = parseReference(reference);
        return parsed.digest
          ? { kind: 'pinned', reference: pinnedReference(parsed, parsed.digest), digest: parsed.digest }
          : undefined;
      } catch (err) {
        return errorResult(err, NEVER_ABORTED);
      }
    },
    async pin(reference, signal) {
      try {
        const ref = parseReference(reference);
        // a digest reference is already pinned: no registry round trip
        if (ref.digest)
          return { kind: 'pinned', reference: pinnedReference(ref, ref.digest), digest: ref.digest };
        const resolution =
          peekResolution(reference) ??
          (await raceSignal(
            withRegistryPriority(
              nextPriority++,
              () =>
                imageTask(`pin:${reference}`, async (s) => (await resolve(ref, reference, s)).resolution)
                  .task,
            ),
            signal,
          ));
        return {
          kind: 'pinned',
          reference: `${resolution.name}@${resolution.digest}`,
          digest: resolution.digest,
        };
      } catch (err) {
        return errorResult(err, signal);
      }
    },
  };
}
