/**
 * Content digests for the layout store (image-spec 1.1 `descriptor.md` § Digests): the
 * algorithms vouch accepts, the hash of a byte string, and the check every read makes.
 * Digests name files under `blobs/`, so they are validated before they touch a path.
 */
import { createHash } from 'node:crypto';
import { VouchError } from '../../errors.js';

/** Hex length of each registered algorithm (image-spec § Registered algorithms). */
const HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha512: 128 };

/** A digest split into its algorithm and lowercase hex encoding. */
export interface ParsedDigest {
  readonly algorithm: 'sha256' | 'sha512';
  readonly hex: string;
}

/** Splits and validates `<alg>:<hex>`; throws DIGEST_INVALID naming what is wrong. */
export function splitDigest(digest: string): ParsedDigest {
  const colon = digest.indexOf(':');
  if (colon <= 0) throw new VouchError('DIGEST_INVALID', `digest "${digest}" has no "<algorithm>:" prefix`);
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const length = HEX_LENGTH[algorithm];
  if (length === undefined) {
    throw new VouchError(
      'DIGEST_INVALID',
      `digest algorithm "${algorithm}" is not supported (sha256, sha512)`,
    );
  }
  if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
    throw new VouchError(
      'DIGEST_INVALID',
      `digest "${digest}" must have ${length} lowercase hex characters after "${algorithm}:"`,
    );
  }
  return { algorithm: algorithm as ParsedDigest['algorithm'], hex };
}

/** The digest of `bytes` under `algorithm` (sha256 unless told). */
export function digestOf(bytes: Uint8Array, algorithm: ParsedDigest['algorithm'] = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/**
 * Throws CONTENT_DIGEST_MISMATCH unless `bytes` hash to `expected` (with the same algorithm).
 * Every byte the layout store returns goes through here.
 */
export function checkDigest(bytes: Uint8Array, expected: string, what: string): void {
  const { algorithm } = splitDigest(expected);
  const actual = digestOf(bytes, algorithm);
  if (actual !== expected) {
    throw new VouchError(
      'CONTENT_DIGEST_MISMATCH',
      `${what}: content hashes to ${actual}, expected ${expected}`,
      {
        details: { expected, actual },
      },
    );
  }
}
