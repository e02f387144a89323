/**
 * One table from a registry or transport error to a report's outcome and reason, so every
 * verifier that fetches through it answers the same fault the same way (docs/architecture.md
 * shows the table). Failed is final and cacheable; inconclusive is retried on the next request.
 */
import { toVouchError, type VouchErrorCode } from '../errors.js';
import type { Outcome } from './types.js';

export interface Classified {
  readonly outcome: Exclude<Outcome, 'verified'>;
  readonly reason: string;
}

const TABLE: Readonly<Partial<Record<VouchErrorCode, Classified>>> = {
  REGISTRY_AUTH_FAILED: { outcome: 'inconclusive', reason: 'unauthorized' },
  REGISTRY_FORBIDDEN: { outcome: 'inconclusive', reason: 'forbidden' },
  REGISTRY_NOT_FOUND: { outcome: 'failed', reason: 'not-found' },
  REGISTRY_RATE_LIMITED: { outcome: 'inconclusive', reason: 'rate-limited' },
  REGISTRY_UNREACHABLE: { outcome: 'inconclusive', reason: 'unreachable' },
  REGISTRY_ERROR: { outcome: 'inconclusive', reason: 'unreachable' },
  REGISTRY_REDIRECT_REFUSED: { outcome: 'failed', reason: 'redirect-refused' },
  EGRESS_REFUSED: { outcome: 'failed', reason: 'egress-refused' },
  DEADLINE_EXCEEDED: { outcome: 'inconclusive', reason: 'timeout' },
  ABORTED: { outcome: 'inconclusive', reason: 'timeout' },
  CONTENT_DIGEST_MISMATCH: { outcome: 'failed', reason: 'digest-mismatch' },
  CONTENT_TOO_LARGE: { outcome: 'failed', reason: 'too-large' },
  CONTENT_TRUNCATED: { outcome: 'inconclusive', reason: 'unreachable' },
  MANIFEST_INVALID: { outcome: 'failed', reason: 'malformed' },
  MANIFEST_UNSUPPORTED: { outcome: 'failed', reason: 'unsupported' },
  LAYOUT_INVALID: { outcome: 'failed', reason: 'malformed' },
};

/**
 * The reason every verifier gives when the artifact's manifest is fine but the layer it reads has
 * a media type it does not read (a `text/plain` layer where an envelope, a payload or a document
 * belongs): failed, as content is (the bytes were digest-checked; the artifact is what was pushed).
 */
export const MEDIA_TYPE_MISMATCH = {
  outcome: 'failed',
  reason: 'media-type-mismatch',
} as const satisfies Classified;

/** The outcome and reason of a fetch that threw `err`; unknown errors are inconclusive `error`. */
export function classifyFetchError(err: unknown, signal?: AbortSignal): Classified & { message: string } {
  const e = toVouchError(err);
  if (signal?.aborted) return { outcome: 'inconclusive', reason: 'timeout', message: 'the deadline passed' };
  return { ...(TABLE[e.code] ?? { outcome: 'inconclusive', reason: 'error' }), message: e.message };
}
