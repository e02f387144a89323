/** State one RemoteRegistry shares with its repositories. */
import type { FetchedManifest } from '../types.js';
import type { Transport } from './transport.js';

/**
 * What the request helpers of a repository (push.ts, referrers.ts) use of it: its location, and
 * (for the referrers tag schema) its manifest lookup. RemoteRepository implements it; the helpers
 * name this, not the class, so they do not import the module that imports them.
 */
export interface RemoteRepositoryTarget {
  /** `host/repository`, for messages. */
  readonly name: string;
  /** Registry host as in the reference (`host[:port]`). */
  readonly host: string;
  /** Repository path on the registry. */
  readonly repository: string;
  fetchManifestOrUndefined(reference: string, signal: AbortSignal): Promise<FetchedManifest | undefined>;
}

export interface RemoteContext {
  readonly transport: Transport;
  /** Per registry host: whether the Referrers API answered (probed once per host). */
  readonly referrersApi: Map<string, boolean>;
  /** Pagination cap for referrers and tag lists. */
  readonly maxPages: number;
}

/** Scopes for reading and writing a repository (distribution `docs/spec/auth/scope.md`). */
export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}
export function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

/** The URL of the `rel="next"` entry of a Link header (RFC 8288), resolved against `base`. */
export function nextLink(link: string | undefined, base: URL): URL | undefined {
  if (!link) return undefined;
  for (const part of link.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m?.[1] !== undefined && /(?:^|;)\s*rel\s*=\s*"?next"?\s*(?:;|$)/i.test(m[2] ?? '')) {
      return new URL(m[1], base);
    }
  }
  return undefined;
}
