/**
 * DID resolution for atproto (atproto.com/specs/did): did:plc through a PLC directory
 * (`GET {plc}/{did}`), did:web through `https://{host}/.well-known/did.json` (host-only; `http`
 * for `localhost`). Results are cached through the engine's cache (single-flight: concurrent
 * lookups of one DID share one request), failures briefly, network trouble not at all.
 */
import type { Cache } from '../../../cache/types.js';
import { parseAtprotoDid } from '../../../trust/atproto/syntax.js';
import { AtprotoFailure, type AtprotoReason } from '../failure.js';
import { type AtprotoIdentityData, parseDidDocument } from './did-document.js';
import { boundedGet, type FetchLike, parseJsonBody } from './http.js';
import { checkUrlHost } from './net-guard.js';
import { validatePlcAuditLog } from './plc-log.js';

/** Mechanics of DID resolution (limits, endpoints, switches). */
export interface DidResolverOptions {
  readonly plcUrl: string;
  readonly allowPrivateNetwork: boolean;
  readonly timeoutMs: number;
  readonly verifyPlcLog: boolean;
  readonly cacheTtlMs: number;
  /** For did:web and handle well-known requests (SSRF-guarded unless private networks are allowed). */
  readonly fetch: FetchLike;
  /** For the operator-configured PLC directory (trusted by configuration, not guarded). */
  readonly plcFetch: FetchLike;
}

const MAX_DID_DOC_BYTES = 64 * 1024;
const MAX_AUDIT_LOG_BYTES = 2 * 1024 * 1024;
const NEGATIVE_TTL_MS = 30_000;

type Cached =
  | { readonly ok: true; readonly identity: AtprotoIdentityData }
  | { readonly ok: false; readonly reason: Exclude<AtprotoReason, 'ok'>; readonly message: string };

async function getJson(
  url: string,
  options: DidResolverOptions,
  fetch: FetchLike,
  signal: AbortSignal,
  maxBytes: number,
  what: string,
): Promise<unknown> {
  const res = await boundedGet(url, {
    fetch,
    signal,
    timeoutMs: options.timeoutMs,
    maxBytes,
    accept: 'application/did+ld+json, application/json',
    unreachable: 'unreachable',
    what,
  });
  if (res.status === 404 || res.status === 410) {
    throw new AtprotoFailure(
      'did-resolution-failed',
      `${what} says the DID is not registered or not available (HTTP ${res.status})`,
    );
  }
  if (res.status >= 500) throw new AtprotoFailure('unreachable', `${what} failed with HTTP ${res.status}`);
  if (res.status !== 200)
    throw new AtprotoFailure('did-resolution-failed', `${what} answered HTTP ${res.status}`);
  return parseJsonBody(res.bytes, what);
}

async function resolveUncached(
  did: string,
  options: DidResolverOptions,
  signal: AbortSignal,
): Promise<AtprotoIdentityData> {
  const parsed = parseAtprotoDid(did);
  if ('error' in parsed) throw new AtprotoFailure('malformed', parsed.error);
  if (parsed.method === 'plc') {
    const base = options.plcUrl.replace(/\/+$/, '');
    const doc = await getJson(
      `${base}/${did}`,
      options,
      options.plcFetch,
      signal,
      MAX_DID_DOC_BYTES,
      'the PLC directory',
    );
    const identity = parseDidDocument(doc, did);
    if (options.verifyPlcLog) {
      const log = await getJson(
        `${base}/${did}/log/audit`,
        options,
        options.plcFetch,
        signal,
        MAX_AUDIT_LOG_BYTES,
        'the PLC audit log',
      );
      const state = validatePlcAuditLog(log, did);
      if (state === 'tombstoned')
        throw new AtprotoFailure('did-resolution-failed', `${did} is tombstoned in the PLC audit log`);
      if (state.atprotoKey !== identity.signingKey || state.pds !== identity.pds) {
        throw new AtprotoFailure(
          'malformed',
          `the PLC audit log of ${did} does not end in the state the directory serves`,
        );
      }
    }
    return identity;
  }
  const local = /^localhost(:\d+)?$/.test(parsed.host);
  const url = new URL(`${local ? 'http' : 'https'}://${parsed.host}/.well-known/did.json`);
  checkUrlHost(url, options.allowPrivateNetwork, 'the did:web host');
  const doc = await getJson(
    url.toString(),
    options,
    options.fetch,
    signal,
    MAX_DID_DOC_BYTES,
    `did:web host ${parsed.host}`,
  );
  return parseDidDocument(doc, did);
}

function ttlFor(value: Cached, ttlMs: number): number {
  if (value.ok) return ttlMs;
  if (value.reason === 'unreachable' || value.reason === 'timeout') return 0;
  return Math.min(NEGATIVE_TTL_MS, ttlMs);
}

/**
 * Resolves `did` to its signing key, PDS and claimed handle. Throws `AtprotoFailure`
 * (`malformed` before any request for bad syntax; `did-resolution-failed`, `unreachable`,
 * `timeout`, `forbidden-address`, or `malformed` for documents without key or PDS).
 */
export async function resolveIdentity(
  did: string,
  options: DidResolverOptions,
  ctx: { readonly cache: Cache; readonly signal: AbortSignal },
): Promise<AtprotoIdentityData> {
  const key = `atproto:did:${options.plcUrl}:${options.verifyPlcLog ? 'log' : 'doc'}:${did}`;
  const cached = await ctx.cache.getOrCompute<Cached>(
    key,
    (v) => ttlFor(v, options.cacheTtlMs),
    async () => {
      try {
        return { ok: true, identity: await resolveUncached(did, options, ctx.signal) };
      } catch (err) {
        if (err instanceof AtprotoFailure) return { ok: false, reason: err.reason, message: err.message };
        throw err;
      }
    },
  );
  if (cached.ok) return cached.identity;
  throw new AtprotoFailure(cached.reason, cached.message);
}
