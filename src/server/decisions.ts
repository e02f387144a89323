/**
 * The server's path to a decision for one image key, shared by every endpoint:
 *
 *   key → resolve tag to digest (cached briefly) → decision cache keyed by
 *   `engine.generation` + subject name + digest (never by tag) → engine.decideSubject.
 *
 * Identical in-flight work is shared (the cache's single-flight), so a hundred pods of one
 * Deployment cost one verification. A computation runs under its own deadline,
 * not the deadline of the request that happened to start it: a request whose budget ends earlier
 * stops waiting (its key gets `timeout`), while the work completes and warms the cache for
 * Gatekeeper's retry (the computation deadline is the larger of 10 s and 4 × the validate budget).
 * Computations across all requests are bounded by `imageConcurrency`. Images are numbered as they
 * start, and a registry host's waiting requests are served lowest number first, so under a
 * registry-bound batch images finish one after another instead of all together at the end.
 *
 * Only decisions with no inconclusive report are cached (a timeout or an unreachable registry must
 * not be remembered as an answer); denials live `negativeTtlMs`, allows `ttlMs`.
 */
import type { Cache } from '../cache/types.js';
import { createLimiter } from '../concurrency.js';
import type { Decision, Report, Subject } from '../engine/types.js';
import { TRANSIENT_CODES, toVouchError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { ServerMetrics } from '../observability/metrics.js';
import { parseReference, pinnedReference } from '../reference/parse.js';
import { withRegistryPriority } from '../registry/remote/priority.js';
import { compactValue } from './compact.js';

/** What the server needs of the engine (the real `Engine` satisfies it). */
export interface DecisionEngine {
  readonly generation: string;
  subject(reference: string, signal: AbortSignal): Promise<Subject>;
  decideSubject(
    reference: string,
    subject: Subject,
    options: { signal: AbortSignal; now?: Date; platforms?: readonly string[] },
  ): Promise<Decision>;
}

/** The outcome for one key: a decision, or an error with a stable code. */
export type KeyResult =
  | { readonly kind: 'decision'; readonly decision: Decision; readonly cached: boolean }
  | { readonly kind: 'error'; readonly code: string; readonly message: string; readonly transient: boolean };

/** A resolved tag, as cached. */
interface Resolution {
  readonly name: string;
  readonly digest: string;
}

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
  pin(reference: string, signal: AbortSignal): Promise<{ reference: string; digest: string } | KeyResult>;
  /** `pin` answered synchronously (a digest reference, or a cached resolution); undefined otherwise. */
  peekPin(reference: string): { reference: string; digest: string } | KeyResult | undefined;
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
export function errorResult(err: unknown, signal: AbortSignal): KeyResult {
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

/**
 * `fn` under a deadline of `ms`, like `AbortSignal.timeout(ms)`, but the timer is cleared as soon
 * as `fn` settles: a timeout signal lives until its timer fires, with every signal the registry
 * client derived from it (AbortSignal.any) — thousands of them under load, ~MiBs of heap
 * (docs/performance.md, "(d) Memory").
 */
async function withDeadline<T>(ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
    ms,
  );
  timer.unref();
  try {
    return await fn(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

export function createDecisionService(options: DecisionServiceOptions): DecisionService {
  const { engine, cache, metrics, logger } = options;
  const limit = createLimiter(options.imageConcurrency);
  const decisionTtl = (d: Decision): number => {
    // a platform's inconclusive report (multi-arch rules) is as uncacheable as the image's own
    if (hasInconclusive(d.reports) || d.platforms?.some((p) => hasInconclusive(p.reports))) return 0;
    return d.allowed && !d.wouldDeny ? options.ttlMs : options.negativeTtlMs;
  };

  /** Resolves a key, returning the subject when this call had to fetch it. */
  const resolve = async (reference: string): Promise<{ resolution: Resolution; subject?: Subject }> => {
    let subject: Subject | undefined;
    const fetch = async (): Promise<Resolution> => {
      const fetched = await limit(() =>
        withDeadline(options.computeTimeoutMs, (signal) => engine.subject(reference, signal)),
      );
      subject = fetched;
      // kept for resolveTtlMs: flat copies, the name shared by every image of its repository
      return compactValue({ name: fetched.name, digest: fetched.descriptor.digest });
    };
    const resolution =
      options.cacheEnabled && options.resolveTtlMs > 0
        ? await cache.getOrCompute<Resolution>(`resolve:${reference}`, options.resolveTtlMs, fetch)
        : await fetch();
    return subject ? { resolution, subject } : { resolution };
  };

  const compute = async (
    reference: string,
    resolution: Resolution,
    known?: Subject,
    platforms?: readonly string[],
  ): Promise<Decision> => {
    const started = performance.now();
    const decision = await withDeadline(options.computeTimeoutMs, (signal) =>
      limit(async () => {
        const subject = known ?? (await engine.subject(`${resolution.name}@${resolution.digest}`, signal));
        return engine.decideSubject(reference, subject, { signal, ...(platforms ? { platforms } : {}) });
      }),
    );
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
  const decisionKey = (resolution: Resolution, platforms?: readonly string[]): string =>
    `decision:${engine.generation}:${resolution.name}@${resolution.digest}${platforms ? `|${platforms.join(',')}` : ''}`;

  return {
    peek(reference) {
      if (!options.cacheEnabled || options.resolveTtlMs <= 0 || !cache.peek) return undefined;
      const resolution = cache.peek<Resolution>(`resolve:${reference}`);
      if (!resolution) return undefined;
      const decision = cache.peek<Decision>(decisionKey(resolution));
      if (!decision) return undefined;
      metrics.cachedDecision(decision);
      return { kind: 'decision', decision, cached: true };
    },
    async decide(reference, signal, platforms) {
      const started = performance.now();
      try {
        // image references only: a key must never name a local OCI layout (`oci:/path`)
        parseReference(reference);
        // registry requests of images started earlier go first (registry/remote/priority.ts)
        const work = withRegistryPriority(nextPriority++, async () => {
          const { resolution, subject } = await resolve(reference);
          if (!options.cacheEnabled)
            return { decision: await compute(reference, resolution, subject, platforms), cached: false };
          const key = decisionKey(resolution, platforms);
          let fresh = false;
          const decision = await cache.getOrCompute<Decision>(key, decisionTtl, () => {
            fresh = true;
            return compute(reference, resolution, subject, platforms);
          });
          return { decision, cached: !fresh };
        });
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
      const resolution =
        options.cacheEnabled && options.resolveTtlMs > 0
          ? cache.peek?.<Resolution>(`resolve:${reference}`)
          : undefined;
      if (resolution)
        return { reference: `${resolution.name}@${resolution.digest}`, digest: resolution.digest };
      try {
        const parsed = parseReference(reference);
        return parsed.digest
          ? { reference: pinnedReference(parsed, parsed.digest), digest: parsed.digest }
          : undefined;
      } catch (err) {
        return errorResult(err, NEVER_ABORTED);
      }
    },
    async pin(reference, signal) {
      try {
        const parsed = parseReference(reference);
        // a digest reference is already pinned: no registry round trip
        if (parsed.digest)
          return { reference: pinnedReference(parsed, parsed.digest), digest: parsed.digest };
        const { resolution } = await raceSignal(
          withRegistryPriority(nextPriority++, () => resolve(reference)),
          signal,
        );
        return { reference: `${resolution.name}@${resolution.digest}`, digest: resolution.digest };
      } catch (err) {
        return errorResult(err, signal);
      }
    },
  };
}
