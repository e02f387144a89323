/**
 * Bidirectional handle verification (atproto.com/specs/handle): a handle identifies an account
 * only when the DID document claims it (`alsoKnownAs`) AND the handle resolves back to the DID,
 * through DNS TXT `_atproto.<handle>` (`did=<did>`) or `https://<handle>/.well-known/atproto-did`.
 */
import type { Cache } from '../../../cache/types.js';
import { isValidHandle } from '../../../trust/atproto/syntax.js';
import { AtprotoFailure } from '../failure.js';
import { boundedGet, type FetchLike } from './http.js';
import { checkUrlHost } from './net-guard.js';

/** DNS TXT lookup (node:dns/promises `resolveTxt` shape). */
export type ResolveTxt = (name: string) => Promise<string[][]>;

export interface HandleOptions {
  readonly fetch: FetchLike;
  readonly resolveTxt: ResolveTxt;
  readonly allowPrivateNetwork: boolean;
  readonly timeoutMs: number;
  readonly cacheTtlMs: number;
}

async function viaDns(
  handle: string,
  did: string,
  options: HandleOptions,
  signal: AbortSignal,
): Promise<boolean> {
  const lookup = options.resolveTxt(`_atproto.${handle}`);
  const timeout = new Promise<never>((_, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), options.timeoutMs);
    t.unref();
    signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
  });
  try {
    const records = await Promise.race([lookup, timeout]);
    return records.map((chunks) => chunks.join('')).some((r) => r === `did=${did}`);
  } catch {
    return false;
  }
}

async function viaWellKnown(
  handle: string,
  did: string,
  options: HandleOptions,
  signal: AbortSignal,
): Promise<boolean> {
  const url = new URL(`https://${handle}/.well-known/atproto-did`);
  try {
    checkUrlHost(url, options.allowPrivateNetwork, 'the handle host');
    const res = await boundedGet(url.toString(), {
      fetch: options.fetch,
      signal,
      timeoutMs: options.timeoutMs,
      maxBytes: 2048,
      accept: 'text/plain',
      unreachable: 'unreachable',
      what: `handle host ${handle}`,
    });
    return res.status === 200 && Buffer.from(res.bytes).toString('utf8').trim() === did;
  } catch (err) {
    if (err instanceof AtprotoFailure) return false;
    throw err;
  }
}

/**
 * True when `handle` is claimed by the DID document (`documentHandle`) and resolves back to `did`.
 * Never throws for network trouble: an unresolvable handle is simply not verified.
 */
export async function verifyHandle(
  handle: string,
  did: string,
  documentHandle: string | undefined,
  options: HandleOptions,
  ctx: { readonly cache: Cache; readonly signal: AbortSignal },
): Promise<boolean> {
  const h = handle.toLowerCase();
  if (!isValidHandle(h) || documentHandle !== h) return false;
  return ctx.cache.getOrCompute<boolean>(
    `atproto:handle:${h}:${did}`,
    (ok) => (ok ? options.cacheTtlMs : Math.min(30_000, options.cacheTtlMs)),
    async () =>
      (await viaDns(h, did, options, ctx.signal)) || (await viaWellKnown(h, did, options, ctx.signal)),
  );
}
