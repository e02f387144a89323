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
  /** One image could not be decided (`timeout`, `error`). */
  imageError(kind: 'timeout' | 'error'): void;
  /** The request budget ran out before every image was decided. */
  deadlineExpired(endpoint: string): void;
  /** A request refused for load (503) or limits (413/400). */
  rejected(reason: 'overload' | 'too-many-keys' | 'body-too-large' | 'malformed' | 'client-certificate'): void;
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
  const verifications = new Counter({
    name: 'atcr_provider_verifications_total',
    help: 'Image verifications by result (verified, failed, error)',
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
      reports.inc({ verifier: rep.verifier, outcome: rep.outcome, reason: rep.reason });
      if (rep.nested.length > 0) countReports(rep.nested);
    }
  };

  return {
    registry,
    request(endpoint, status, seconds) {
      requests.inc({ status });
      requestDuration.observe(seconds);
      endpointRequests.inc({ endpoint, status });
    },
    decision(decision, seconds) {
      verifications.inc({ result: decision.verified ? 'verified' : 'failed' });
      verificationDuration.observe(seconds);
      decisions.inc({ allowed: String(decision.allowed), mode: decision.mode });
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
        cacheLookups.inc({ layer, result: hit ? 'hit' : 'miss' });
      },
      error(layer: CacheLayer, operation) {
        cacheErrors.inc({ layer, operation });
      },
      degraded(degraded: boolean) {
        cacheDegraded.set(degraded ? 1 : 0);
      },
    },
    onRegistryRequest(event) {
      registryRequests.inc({
        host: event.host,
        method: event.method,
        status: String(event.status),
        kind: event.kind ?? 'registry',
      });
      registryDuration.observe({ host: event.host }, event.durationMs / 1000);
    },
    tlsReload(result) {
      tlsReloads.inc({ result });
    },
    freshDecision(decision) {
      countReports(decision.reports);
    },
  };
}
