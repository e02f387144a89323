/**
 * Bounded HTTP GETs for the identity network: a deadline (the caller's signal combined with a
 * per-call timeout), a byte limit enforced while streaming, and no redirects (a redirect to
 * another host would bypass the host checks; atproto did:web resolution forbids them too).
 */
import { fetch as undiciFetch } from 'undici';
import { egressLookupError } from '../../../net/egress.js';
import { AtprotoFailure } from '../failure.js';
import { identityAgent } from './net-guard.js';

/** The subset of a fetch Response this module reads. */
export interface FetchResponseLike {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  readonly body: ReadableStream<Uint8Array> | null;
}

/** A fetch implementation (global fetch, undici fetch, or a test's). */
export type FetchLike = (
  url: string,
  init: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    signal?: AbortSignal;
    redirect?: 'manual';
  },
) => Promise<FetchResponseLike>;

/** undici fetch through the identity agent (public addresses only unless allowed). */
export function defaultFetch(allowPrivateNetwork: boolean): FetchLike {
  const dispatcher = identityAgent(allowPrivateNetwork);
  return (url, init) => undiciFetch(url, { ...init, dispatcher }) as unknown as Promise<FetchResponseLike>;
}

export interface BoundedGetOptions {
  readonly fetch: FetchLike;
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly accept: string;
  /** Reason for network failures: `unreachable` (identity) or `pds-unreachable`. */
  readonly unreachable: 'unreachable' | 'pds-unreachable';
  /** Names the service in messages ("the PLC directory", "the PDS"). */
  readonly what: string;
}

export interface BoundedResponse {
  readonly status: number;
  readonly contentType: string;
  readonly bytes: Uint8Array;
}

/** Maps an error thrown by fetch or by reading the body to a reason. */
function networkFailure(err: unknown, options: BoundedGetOptions, timeout: AbortSignal): AtprotoFailure {
  if (err instanceof AtprotoFailure) return err;
  if (timeout.aborted || options.signal.aborted) {
    return new AtprotoFailure('timeout', `${options.what} did not answer in time`, { cause: err });
  }
  const refused = egressLookupError(err);
  if (refused) {
    return new AtprotoFailure('forbidden-address', `${options.what}: ${refused.message}; refused`, {
      cause: err,
    });
  }
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const text = cause instanceof Error ? cause.message : String(cause);
  return new AtprotoFailure(options.unreachable, `${options.what} is unreachable: ${text.slice(0, 200)}`, {
    cause: err,
  });
}

/** GETs `url` within the limits; any status is returned (callers decide what 404 means). */
export async function boundedGet(url: string, options: BoundedGetOptions): Promise<BoundedResponse> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([options.signal, timeout]);
  try {
    const res = await options.fetch(url, { headers: { accept: options.accept }, signal, redirect: 'manual' });
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel().catch(() => undefined);
      throw new AtprotoFailure(
        options.unreachable === 'pds-unreachable' ? 'malformed' : 'did-resolution-failed',
        `${options.what} answered with a redirect (HTTP ${res.status}); redirects are not followed`,
      );
    }
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > options.maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      throw new AtprotoFailure(
        'malformed',
        `${options.what} sent ${declared} bytes, over the ${options.maxBytes}-byte limit`,
      );
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    if (res.body) {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        total += chunk.length;
        if (total > options.maxBytes) {
          throw new AtprotoFailure('malformed', `${options.what} sent more than ${options.maxBytes} bytes`);
        }
        chunks.push(chunk);
      }
    }
    return {
      status: res.status,
      contentType: res.headers.get('content-type') ?? '',
      bytes: Buffer.concat(chunks),
    };
  } catch (err) {
    throw networkFailure(err, options, timeout);
  }
}

/** Parses a JSON body, or throws `malformed`. */
export function parseJsonBody(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new AtprotoFailure('malformed', `${what} is not JSON`, { cause: err });
  }
}
