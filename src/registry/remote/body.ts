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

/** Reads all of `body`, failing with CONTENT_TOO_LARGE as soon as it passes `limit` bytes. */
export async function readLimited(
  body: Readable,
  limit: number,
  what: string,
  contentLength: number | undefined,
  signal: AbortSignal,
): Promise<Uint8Array> {
  body.on('error', () => {});
  if (contentLength !== undefined && contentLength > limit) {
    body.destroy();
    throw new VouchError(
      'CONTENT_TOO_LARGE',
      `${what} is ${contentLength} bytes, more than the limit of ${limit}`,
      {
        details: { limit, contentLength },
      },
    );
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      total += buf.byteLength;
      if (total > limit) {
        body.destroy();
        throw new VouchError(
          'CONTENT_TOO_LARGE',
          `${what} passed the limit of ${limit} bytes while streaming`,
          {
            details: { limit },
          },
        );
      }
      chunks.push(buf);
    }
  } catch (err) {
    body.destroy();
    if (err instanceof VouchError) throw err;
    if (signal.aborted) throw abortError(signal, `reading ${what}`);
    throw new VouchError(
      'CONTENT_TRUNCATED',
      `${what} ended early after ${total} bytes: ${(err as Error).message}`,
      {
        cause: err,
        details: { received: total, ...(contentLength === undefined ? {} : { contentLength }) },
      },
    );
  }
  if (contentLength !== undefined && total < contentLength) {
    throw new VouchError('CONTENT_TRUNCATED', `${what} ended early: ${total} of ${contentLength} bytes`);
  }
  return Buffer.concat(chunks, total);
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
 * Releases a response body: drains what is left (up to 64 KiB, so the keep-alive connection can
 * be reused), else destroys it. Never throws.
 */
export async function discard(body: Readable): Promise<void> {
  body.on('error', () => {});
  if (body.readableEnded || body.destroyed) return;
  const dumpable = body as Readable & { dump?: (opts: { limit: number }) => Promise<void> };
  if (typeof dumpable.dump === 'function') {
    await dumpable.dump({ limit: 64 * 1024 }).catch(() => {});
  } else {
    body.destroy();
  }
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
