/** Options of the remote registry client (one place, so config and CLI map onto it). */
import type { Logger } from '../../observability/logger.js';
import type { CredentialStore } from '../auth/types.js';

/** One HTTP exchange, reported after its response headers arrive (or it fails). */
export interface RegistryRequestEvent {
  /** Host the request went to (`host[:port]`; the token realm's host for token requests). */
  readonly host: string;
  readonly method: string;
  /** Path and query of the request URL. */
  readonly path: string;
  readonly status: number | 'error';
  readonly durationMs: number;
  /** 1 for the first try, 2+ for retries. */
  readonly attempt: number;
  /** What the request was for: the registry API, a token endpoint, or a followed blob redirect. */
  readonly kind: 'registry' | 'token' | 'redirect';
}

export interface RemoteRegistryOptions {
  /** Hosts (`host[:port]`, as in references) spoken to over plain HTTP; none by default. */
  readonly insecureHosts?: readonly string[];
  /**
   * Follow token realms and redirects learned from a registry's answers to loopback, private and
   * link-local addresses too (default false: refused with EGRESS_REFUSED). Targets on the
   * registry's own host name and on `insecureHosts` are trusted either way.
   */
  readonly allowPrivateNetwork?: boolean;
  /** PEM files of extra CAs trusted in addition to the system CAs. */
  readonly caFiles?: readonly string[];
  /** Where credentials come from; anonymous when absent. */
  readonly credentials?: CredentialStore;
  /** Requests in flight per registry host (default 64). */
  readonly perHostConcurrency?: number;
  /** Retries after the first try on 429/502/503/504 and connection resets (default 3). */
  readonly maxRetries?: number;
  /** Longest Retry-After honored; a longer one fails at once as rate limited (default 10 s). */
  readonly maxRetryAfterMs?: number;
  /** Deadline for one operation when the caller gives no AbortSignal, and cap otherwise (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** Pages of the Referrers API, the referrers of tag listing and tags followed at most (default 20). */
  readonly maxPages?: number;
  /** User-Agent header (default `vouch/<version>`). */
  readonly userAgent?: string;
  /** Called for every HTTP exchange (metrics, benchmarks). Must not throw. */
  readonly onRequest?: (event: RegistryRequestEvent) => void;
  readonly logger?: Logger;
}
