/**
 * The server's Prometheus metrics. Names follow the ATCR provider document
 * (`atcr_provider_*`, reference/atcr-gatekeeper-provider.md "Monitoring") so its dashboards work,
 * plus vouch's own (`vouch_*`): per verifier and outcome, registry requests by host and status
 * (429s visible), deadline expiries, and the cache by layer.
 *
 * One `Registry` per server instance (no global default registry), so tests can run servers side by
 * side and a scrape shows only that server.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { CacheLayer, CacheObserver } from '../cache/layered.js';
import type { Decision, Report } from '../engine/types.js';

/** What the RemoteRegistry's `onRequest` hook reports for each HTTP request. */
export interface RegistryRequestEvent {
  readonly host: string;
  readonly method: string;
  readonly path?: string;
  /** HTTP status, or `error` when no response arrived. */
  readonly status: number | 'error';
  readonly durationMs: number;
  readonly attempt?: number;
  readonly kind?: string;
}

export interface ServerMetrics {
  readonly registry: Registry;
  /** One provider/admission request finished (`status`: success or failure, the ATCR labels). */
  request(endpoint: string, status: 'success' | 'failure', seconds: number): void;
  /** A decision was computed (not served from cache): count its verifier reports. */
  freshDecision(decision: Decision): void;
  /** One image decided (fresh or cached). */
  decision(decision: Decision, seconds: number): void;
  /**
   * One image answered from the in-process cache on the warm path: counted as a cache hit and a
   * verification (not timed: nothing was verified). Plain counters, added to the Prometheus ones
   * when scraped, so a warm request does no prom-client work per image.
   */
  cachedDecision(decision: Decision): void;
  /** One image could not be decided (`timeout`, `error`). */
  imageError(kind: 'timeout' | 'error'): void;
  /** The request budget ran out before every image was decided. */
  deadlineExpired(endpoint: string): void;
  /** A request refused for load (503) or limits (413/400). */
  rejected(
    reason: 'overload' | 'too-many-keys' | 'body-too-large' | 'malformed' | 'client-certificate',
  ): void;
  /** Decision cache lookups as the server sees them (the ATCR counters). */
  decisionCache(hit: boolean): void;
  readonly cacheObserver: CacheObserver;
  onRegistryRequest(event: RegistryRequestEvent): void;
  /** TLS material reloads (`ok` or `failed`). */
  tlsReload(result: 'ok' | 'failed'): void;
}

/** Creates the metrics of one server. `defaults` adds process metrics (RSS, event loop lag, …). */
export function createServerMetrics(options: { defaults?: boolean } = {}): ServerMetrics {
  const registry = new Registry();
  if (options.defaults !== false) collectDefaultMetrics({ register: registry, prefix: 'vouch_' });
  const r = [registry];

  const requests = new Counter({
    name: 'atcr_provider_requests_total',
    help: 'Provider requests by outcome',
    labelNames: ['status'],
    registers: r,
  });
  const requestDuration = new Histogram({
    name: 'atcr_provider_request_duration_seconds',
    help: 'Provider request duration',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5],
    registers: r,
  });
  // warm-path counts, folded into the counters below when they are collected (scraped)
  const pending = { hits: 0, verified: 0, failed: 0, decisions: new Map<string, number>() };
  const flush = (): void => {
    if (pending.hits > 0) cacheHits.inc(pending.hits);
    if (pending.verified > 0) verifications.inc({ result: 'verified' }, pending.verified);
    if (pending.failed > 0) verifications.inc({ result: 'failed' }, pending.failed);
    for (const [key, n] of pending.decisions) {
      const [allowed = 'false', mode = 'enforce'] = key.split('|');
      decisions.inc({ allowed, mode }, n);
    }
    pending.hits = 0;
    pending.verified = 0;
    pending.failed = 0;
    pending.decisions.clear();
  };

  const verifications = new Counter({
    name: 'atcr_provider_verifications_total',
    help: 'Image verifications by result (verified, failed, error)',
    collect: flush,
    labelNames: ['result'],
    registers: r,
  });
  const verificationDuration = new Histogram({
    name: 'atcr_provider_verification_duration_seconds',
    help: 'Time to decide one image',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5],
    registers: r,
  });
  const cacheHits = new Counter({
    name: 'atcr_provider_cache_hits_total',
    help: 'Decision cache hits',
    collect: flush,
    registers: r,
  });
  const cacheMisses = new Counter({
    name: 'atcr_provider_cache_misses_total',
    help: 'Decision cache misses',
    registers: r,
  });

  const endpointRequests = new Counter({
    name: 'vouch_server_requests_total',
    help: 'Requests by endpoint and outcome',
    labelNames: ['endpoint', 'status'],
    registers: r,
  });
  const reports = new Counter({
    name: 'vouch_verifier_reports_total',
    help: 'Verifier reports by verifier, outcome and reason',
    labelNames: ['verifier', 'outcome', 'reason'],
    registers: r,
  });
  const decisions = new Counter({
    name: 'vouch_decisions_total',
    help: 'Decisions by result and mode',
    collect: flush,
    labelNames: ['allowed', 'mode'],
    registers: r,
  });
  const imageErrors = new Counter({
    name: 'vouch_image_errors_total',
    help: 'Images not decided, by kind',
    labelNames: ['kind'],
    registers: r,
  });
  const deadlines = new Counter({
    name: 'vouch_deadline_expired_total',
    help: 'Requests whose budget ran out before every image was decided',
    labelNames: ['endpoint'],
    registers: r,
  });
  const rejections = new Counter({
    name: 'vouch_requests_rejected_total',
    help: 'Requests refused for load or limits',
    labelNames: ['reason'],
    registers: r,
  });
  const registryRequests = new Counter({
    name: 'vouch_registry_requests_total',
    help: 'Registry HTTP requests by host, method, status (error: no response) and kind (registry, token, redirect)',
    labelNames: ['host', 'method', 'status', 'kind'],
    registers: r,
  });
  const registryDuration = new Histogram({
    name: 'vouch_registry_request_duration_seconds',
    help: 'Registry HTTP request duration by host',
    labelNames: ['host'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: r,
  });
  const cacheLookups = new Counter({
    name: 'vouch_cache_lookups_total',
    help: 'Cache lookups by layer and result',
    labelNames: ['layer', 'result'],
    registers: r,
  });
  const cacheErrors = new Counter({
    name: 'vouch_cache_errors_total',
    help: 'Cache errors by layer and operation',
    labelNames: ['layer', 'operation'],
    registers: r,
  });
  const cacheDegraded = new Gauge({
    name: 'vouch_cache_degraded',
    help: '1 while the shared cache (Redis) is configured but unusable and memory serves alone',
    registers: r,
  });
  const tlsReloads = new Counter({
    name: 'vouch_tls_reloads_total',
    help: 'TLS material reloads by result',
    labelNames: ['result'],
    registers: r,
  });

  const countReports = (list: readonly Report[]): void => {
    for (const rep of list) {
      const { verifier, outcome, reason } = rep;
      child(`r|${verifier}|${outcome}|${reason}`, () => reports.labels({ verifier, outcome, reason })).inc();
      if (rep.nested.length > 0) countReports(rep.nested);
    }
  };

  const allowedKeys = { enforce: 'true|enforce', audit: 'true|audit' } as const;
  const deniedKeys = { enforce: 'false|enforce', audit: 'false|audit' } as const;
  // the warm path counts every image of every request: label sets are hashed once, not per call
  const verifiedChild = verifications.labels({ result: 'verified' });
  const failedChild = verifications.labels({ result: 'failed' });
  const requestChildren = {
    success: requests.labels({ status: 'success' }),
    failure: requests.labels({ status: 'failure' }),
  };
  // label values come from a small set (endpoints, statuses, registry hosts, verifiers, reasons);
  // the cap only guards against a caller that passes unbounded ones
  const children = new Map<string, unknown>();
  const child = <C>(key: string, make: () => C): C => {
    let c = children.get(key) as C | undefined;
    if (!c) {
      c = make();
      if (children.size >= 4096) children.clear();
      children.set(key, c);
    }
    return c;
  };

  return {
    registry,
    request(endpoint, status, seconds) {
      requestChildren[status].inc();
      requestDuration.observe(seconds);
      child(`e|${endpoint}|${status}`, () => endpointRequests.labels({ endpoint, status })).inc();
    },
    decision(decision, seconds) {
      (decision.verified ? verifiedChild : failedChild).inc();
      verificationDuration.observe(seconds);
      const allowed = decision.allowed ? 'true' : 'false';
      child(`d|${allowed}|${decision.mode}`, () => decisions.labels({ allowed, mode: decision.mode })).inc();
    },
    cachedDecision(decision) {
      pending.hits++;
      if (decision.verified) pending.verified++;
      else pending.failed++;
      const key = decision.allowed ? allowedKeys[decision.mode] : deniedKeys[decision.mode];
      pending.decisions.set(key, (pending.decisions.get(key) ?? 0) + 1);
    },
    imageError(kind) {
      verifications.inc({ result: 'error' });
      imageErrors.inc({ kind });
    },
    deadlineExpired(endpoint) {
      deadlines.inc({ endpoint });
    },
    rejected(reason) {
      rejections.inc({ reason });
    },
    decisionCache(hit) {
      (hit ? cacheHits : cacheMisses).inc();
    },
    cacheObserver: {
      lookup(layer: CacheLayer, hit: boolean) {
        const result = hit ? 'hit' : 'miss';
        child(`l|${layer}|${result}`, () => cacheLookups.labels({ layer, result })).inc();
      },
      error(layer: CacheLayer, operation) {
        cacheErrors.inc({ layer, operation });
      },
      degraded(degraded: boolean) {
        cacheDegraded.set(degraded ? 1 : 0);
      },
    },
    onRegistryRequest(event) {
      const { host, method } = event;
      const status = String(event.status);
      const kind = event.kind ?? 'registry';
      child(`q|${host}|${method}|${status}|${kind}`, () =>
        registryRequests.labels({ host, method, status, kind }),
      ).inc();
      child(`h|${host}`, () => registryDuration.labels({ host })).observe(event.durationMs / 1000);
    },
    tlsReload(result) {
      tlsReloads.inc({ result });
    },
    freshDecision(decision) {
      countReports(decision.reports);
    },
  };
}
