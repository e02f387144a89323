/**
 * Digest validation (OCI image-spec 1.1 `descriptor.md` §Digests). vouch accepts the two
 * registered algorithms only: sha256 (64 lowercase hex) and sha512 (128 lowercase hex).
 */
import { createHash } from 'node:crypto';
import { VouchError } from '../errors.js';

/** Hex length of each algorithm vouch accepts. */
export const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha512: 128 };

const ALGORITHM_GRAMMAR = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*$/;

/**
 * Checks that `digest` is `<alg>:<hex>` with a registered algorithm and the right hex length.
 * Returns the digest unchanged; throws DIGEST_INVALID naming what is wrong.
 */
export function validateDigest(digest: string): string {
  const fail = (why: string): never => {
    throw new VouchError('DIGEST_INVALID', `invalid digest "${truncate(digest)}": ${why}`, {
      details: { digest: truncate(digest) },
    });
  };
  if (digest === '') fail('it is empty');
  const colon = digest.indexOf(':');
  if (colon < 0) fail('it has no algorithm prefix (expected "<algorithm>:<hex>", e.g. "sha256:…")');
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  if (algorithm === '') fail('the algorithm is empty');
  if (!ALGORITHM_GRAMMAR.test(algorithm))
    fail(`the algorithm "${truncate(algorithm)}" is not well-formed (lowercase letters and digits)`);
  const expected = DIGEST_HEX_LENGTH[algorithm];
  if (expected === undefined) fail(`unsupported digest algorithm "${algorithm}" (supported: sha256, sha512)`);
  if (hex === '') fail('the hex part is empty');
  if (/[A-F]/.test(hex) && /^[0-9a-fA-F]+$/.test(hex)) fail('the hex part must be lowercase');
  if (!/^[0-9a-f]+$/.test(hex)) fail('the hex part contains characters other than 0-9 and a-f');
  if (hex.length !== expected)
    fail(`a ${algorithm} digest has ${expected} hex characters, this one has ${hex.length}`);
  return digest;
}

/** True when `digest` passes validateDigest. */
export function isDigest(digest: string): boolean {
  try {
    validateDigest(digest);
    return true;
  } catch {
    return false;
  }
}

/** Computes `<alg>:<hex>` of `bytes` with the algorithm of `like` (sha256 when omitted). */
export function computeDigest(bytes: Uint8Array, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** The algorithm part of a validated digest. */
export function digestAlgorithm(digest: string): 'sha256' | 'sha512' {
  const algorithm = validateDigest(digest).slice(0, digest.indexOf(':'));
  return algorithm === 'sha512' ? 'sha512' : 'sha256';
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
