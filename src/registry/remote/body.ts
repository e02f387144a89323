/**
 * Reading response bodies under a size limit enforced while streaming (the limit is checked on
 * every chunk, and a Content-Length above it fails before the first byte is read), and checking
 * digests and sizes before any byte is returned (ARCHITECTURE: every byte that leaves a
 * Registry has had its digest checked).
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { VouchError } from '../../errors.js';
import { digestAlgorithm } from '../../reference/digest.js';
import { abortError } from './errors.js';
import { ResponseBody } from './response-body.js';

/**
 * Reads all of `body`, failing with CONTENT_TOO_LARGE as soon as it passes `limit` bytes (before
 * the first byte when its Content-Length says so), CONTENT_TRUNCATED when it breaks off or ends
 * short of its Content-Length, and DEADLINE_EXCEEDED/ABORTED when `signal` ends the read.
 */
export async function readLimited(
  body: ResponseBody | Readable,
  limit: number,
  what: string,
  contentLength: number | undefined,
  signal: AbortSignal,
): Promise<Uint8Array> {
  const source = body instanceof ResponseBody ? body : ResponseBody.fromStream(body);
  const tooLarge = (message: string, details: Record<string, number>) =>
    new VouchError('CONTENT_TOO_LARGE', message, { details });
  if (contentLength !== undefined && contentLength > limit) {
    await source.discard();
    throw tooLarge(`${what} is ${contentLength} bytes, more than the limit of ${limit}`, {
      limit,
      contentLength,
    });
  }
  let bytes: Buffer;
  try {
    bytes = await source.readAll(limit);
  } catch (err) {
    if (err instanceof VouchError && err.code === 'CONTENT_TOO_LARGE')
      throw tooLarge(`${what} passed the limit of ${limit} bytes while streaming`, { limit });
    if (err instanceof VouchError) throw err;
    if (signal.aborted) throw abortError(signal, `reading ${what}`);
    throw new VouchError(
      'CONTENT_TRUNCATED',
      `${what} ended early after ${source.received} bytes: ${(err as Error).message}`,
      {
        cause: err,
        details: { received: source.received, ...(contentLength === undefined ? {} : { contentLength }) },
      },
    );
  }
  if (contentLength !== undefined && bytes.byteLength < contentLength) {
    throw new VouchError(
      'CONTENT_TRUNCATED',
      `${what} ended early: ${bytes.byteLength} of ${contentLength} bytes`,
    );
  }
  return bytes;
}

/** Hex digest of `bytes` with the algorithm of `like` (`sha256:` or `sha512:`). */
export function digestLike(bytes: Uint8Array, like: string): string {
  const algorithm = digestAlgorithm(like);
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** Throws CONTENT_DIGEST_MISMATCH / CONTENT_TRUNCATED / CONTENT_TOO_LARGE unless `bytes` match. */
export function verifyContent(
  bytes: Uint8Array,
  expected: { digest: string; size?: number },
  what: string,
): void {
  if (expected.size !== undefined && bytes.byteLength !== expected.size) {
    const code = bytes.byteLength < expected.size ? 'CONTENT_TRUNCATED' : 'CONTENT_TOO_LARGE';
    throw new VouchError(
      code,
      `${what} is ${bytes.byteLength} bytes but its descriptor says ${expected.size}`,
      {
        details: { expectedSize: expected.size, actualSize: bytes.byteLength },
      },
    );
  }
  const actual = digestLike(bytes, expected.digest);
  if (actual !== expected.digest) {
    throw new VouchError(
      'CONTENT_DIGEST_MISMATCH',
      `${what} has digest ${actual}, expected ${expected.digest}`,
      {
        details: { expected: expected.digest, actual },
      },
    );
  }
}

/**
 * Releases a response body: a short rest drains (so the keep-alive connection can be reused),
 * a long one ends the request. Never throws, never waits.
 */
export function discard(body: ResponseBody): Promise<void> {
  return body.discard();
}

/** One header value (first of a list), or undefined. */
export function header(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Content-Length as a number, when present and well-formed. */
export function contentLength(headers: Record<string, string | string[] | undefined>): number | undefined {
  const v = header(headers, 'content-length');
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}
