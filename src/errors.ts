/**
 * One error base for the whole project. Codes are API (tests and exit codes key on them);
 * messages are for people. A cause, when there is one, is kept.
 */

/** Every error code vouch raises. Grouped by the layer that raises it. */
export type VouchErrorCode =
  // references and digests
  | 'REFERENCE_INVALID'
  | 'DIGEST_INVALID'
  // registry transport and content
  | 'REGISTRY_UNREACHABLE'
  | 'REGISTRY_AUTH_FAILED'
  | 'REGISTRY_FORBIDDEN'
  | 'REGISTRY_NOT_FOUND'
  | 'REGISTRY_RATE_LIMITED'
  | 'REGISTRY_ERROR'
  | 'REGISTRY_REDIRECT_REFUSED'
  | 'REGISTRY_UNSUPPORTED'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNSUPPORTED'
  | 'CONTENT_DIGEST_MISMATCH'
  | 'CONTENT_TOO_LARGE'
  | 'CONTENT_TRUNCATED'
  | 'LAYOUT_INVALID'
  // a URL learned from untrusted data points at a target vouch does not contact (src/net/egress.ts)
  | 'EGRESS_REFUSED'
  // configuration and trust material
  | 'CONFIG_INVALID'
  | 'TRUST_MATERIAL_INVALID'
  | 'POLICY_INVALID'
  // shared cache (Redis) not answering; callers fall back to memory
  | 'CACHE_UNAVAILABLE'
  // time limits
  | 'DEADLINE_EXCEEDED'
  | 'ABORTED'
  // usage
  | 'USAGE'
  | 'SIGNING_FAILED'
  | 'INTERNAL';

/** The error every vouch layer throws. */
export class VouchError extends Error {
  readonly code: VouchErrorCode;
  /** Extra facts for logs and reports (never credentials). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: VouchErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VouchError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** True when `err` is a VouchError, optionally with one of the given codes. */
export function isVouchError(err: unknown, ...codes: VouchErrorCode[]): err is VouchError {
  return err instanceof VouchError && (codes.length === 0 || codes.includes(err.code));
}

/**
 * Errors that mean "could not decide" rather than "bad content": network, deadline, throttling.
 * The engine turns these into inconclusive reports, and the CLI into exit code 3.
 */
export const TRANSIENT_CODES: ReadonlySet<VouchErrorCode> = new Set<VouchErrorCode>([
  'REGISTRY_UNREACHABLE',
  'REGISTRY_RATE_LIMITED',
  'REGISTRY_ERROR',
  'DEADLINE_EXCEEDED',
  'ABORTED',
]);

/** Converts anything thrown into a VouchError, mapping aborts and timeouts to stable codes. */
export function toVouchError(err: unknown): VouchError {
  if (err instanceof VouchError) return err;
  if (err instanceof Error) {
    if (err.name === 'TimeoutError')
      return new VouchError('DEADLINE_EXCEEDED', 'the deadline passed', { cause: err });
    if (err.name === 'AbortError')
      return new VouchError('ABORTED', 'the operation was aborted', { cause: err });
    return new VouchError('INTERNAL', err.message, { cause: err });
  }
  return new VouchError('INTERNAL', String(err));
}
