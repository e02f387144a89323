/**
 * Content digests for the layout store (image-spec 1.1 `descriptor.md` § Digests). Digests name
 * files under `blobs/`, so they are validated (src/reference/digest.ts) before they touch a path.
 */
import { VouchError } from '../../errors.js';
import { computeDigest, digestAlgorithm, validateDigest } from '../../reference/digest.js';

/** A digest split into its algorithm and lowercase hex encoding. */
export interface ParsedDigest {
  readonly algorithm: 'sha256' | 'sha512';
  readonly hex: string;
}

/** Splits and validates `<alg>:<hex>`; throws DIGEST_INVALID naming what is wrong. */
export function splitDigest(digest: string): ParsedDigest {
  validateDigest(digest);
  return { algorithm: digestAlgorithm(digest), hex: digest.slice(digest.indexOf(':') + 1) };
}

/** The digest of `bytes` under `algorithm` (sha256 unless told). */
export function digestOf(bytes: Uint8Array, algorithm: ParsedDigest['algorithm'] = 'sha256'): string {
  return computeDigest(bytes, algorithm);
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
