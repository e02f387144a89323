/**
 * The cosign verifier's stable reason codes and the one error its pure checks throw.
 * A check that fails throws `CosignCheckFailure`; the verifier turns it into a Report with the
 * same reason. Reasons are API: policies, metrics and tests key on them.
 */

/** Every reason the cosign verifier reports. */
export type CosignReason =
  | 'ok'
  | 'invalid-signature'
  | 'digest-mismatch'
  | 'untrusted-signer'
  | 'untrusted-chain'
  | 'identity-mismatch'
  | 'tlog-missing'
  | 'tlog-invalid'
  | 'sct-invalid'
  | 'expired'
  | 'malformed'
  | 'media-type-mismatch'
  | 'predicate-type-mismatch'
  | 'condition-failed'
  | 'builder-mismatch'
  | 'source-mismatch'
  | 'ref-mismatch'
  | 'build-type-mismatch'
  | 'disallowed-severity'
  | 'denylisted-cve'
  | 'unreadable-severity'
  | 'disallowed-license'
  | 'disallowed-package'
  | 'threshold-not-met';

/** Thrown by the pure checks; carries the reason and facts for the report. */
export class CosignCheckFailure extends Error {
  readonly reason: Exclude<CosignReason, 'ok'>;
  readonly details: Record<string, unknown>;

  constructor(reason: Exclude<CosignReason, 'ok'>, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'CosignCheckFailure';
    this.reason = reason;
    this.details = details;
  }
}

/** Shorthand for throwing a `malformed` failure. */
export function malformed(message: string): never {
  throw new CosignCheckFailure('malformed', message);
}

/** Decodes standard base64 strictly (padding and alphabet checked); `malformed` otherwise. */
export function decodeBase64Strict(value: unknown, what: string): Buffer {
  if (typeof value !== 'string' || value.length === 0) malformed(`${what} is not a base64 string`);
  const compact = value.replace(/\s+/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact))
    malformed(`${what} is not valid base64`);
  return Buffer.from(compact, 'base64');
}
