/**
 * Maps @sigstore/verify and @sigstore/bundle errors to the cosign verifier's reasons.
 * The library's codes (verify/src/error.ts) are stable; its messages are used only to tell
 * "expired at that time" from other certificate failures.
 */
import { ValidationError } from '@sigstore/bundle';
import { PolicyError, VerificationError } from '@sigstore/verify';
import type { CosignReason } from './failure.js';

export function mapLibraryError(
  err: unknown,
): { reason: Exclude<CosignReason, 'ok'>; message: string } | undefined {
  if (err instanceof ValidationError)
    return { reason: 'malformed', message: `invalid bundle: ${err.message}` };
  if (err instanceof PolicyError) return { reason: 'identity-mismatch', message: err.message };
  if (!(err instanceof VerificationError)) {
    // Parsing failures deep in the library (bad DER, bad base64) surface as plain errors.
    if (err instanceof Error && /parse|invalid|ASN|DER|length|decode/i.test(err.message)) {
      return { reason: 'malformed', message: err.message };
    }
    return undefined;
  }
  const message = `${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}`;
  switch (err.code) {
    case 'SIGNATURE_ERROR':
      return { reason: 'invalid-signature', message };
    case 'PUBLIC_KEY_ERROR':
      return { reason: 'untrusted-signer', message };
    case 'CERTIFICATE_ERROR':
      if (/expired|not valid/i.test(message)) return { reason: 'expired', message };
      if (/SCT/.test(message)) return { reason: 'sct-invalid', message };
      return { reason: 'untrusted-chain', message };
    case 'TIMESTAMP_ERROR':
      if (/expected \d+ timestamps/.test(message)) return { reason: 'tlog-missing', message };
      if (/expired|not valid|outside|validity/i.test(message)) return { reason: 'expired', message };
      return { reason: 'untrusted-chain', message };
    case 'TLOG_MISSING_INCLUSION_ERROR':
      return { reason: 'tlog-missing', message };
    default:
      if (err.code.startsWith('TLOG')) return { reason: 'tlog-invalid', message };
      return { reason: 'untrusted-chain', message };
  }
}
