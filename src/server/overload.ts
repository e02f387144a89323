/**
 * Load shedding: a bounded number of requests in flight per client and in total. A request over
 * either bound gets `503` with `Retry-After` at once instead of waiting in an unbounded queue (a
 * queued admission request would only time out later, with the API server deciding by
 * failurePolicy). Probes and metrics are never shed.
 *
 * A client is its mTLS certificate (sha-256 fingerprint) when it presented one, else its address.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerMetrics } from '../observability/metrics.js';

export interface OverloadOptions {
  readonly perClientConcurrency: number;
  readonly maxInflight: number;
  readonly retryAfterSeconds: number;
  readonly metrics: ServerMetrics;
  /** Paths never shed. */
  readonly exempt?: ReadonlySet<string>;
}

const clientIds = new WeakMap<Socket, string>();

/** The client a request comes from (cached per connection). */
export function clientOf(request: FastifyRequest): string {
  const socket = request.raw.socket;
  const known = clientIds.get(socket);
  if (known) return known;
  const tls = socket as Partial<TLSSocket>;
  const cert = typeof tls.getPeerCertificate === 'function' ? tls.getPeerCertificate() : undefined;
  const id = cert?.fingerprint256
    ? `cert:${cert.fingerprint256}`
    : `addr:${socket.remoteAddress ?? 'unknown'}`;
  clientIds.set(socket, id);
  return id;
}

const DEFAULT_EXEMPT = new Set(['/health', '/ready', '/metrics']);
const tracked = Symbol('vouch.overload.client');

/** Installs the hooks; returns a function telling how many requests are in flight. */
export function installOverloadProtection(app: FastifyInstance, options: OverloadOptions): () => number {
  const exempt = options.exempt ?? DEFAULT_EXEMPT;
  const perClient = new Map<string, number>();
  let inflight = 0;

  // callback-style hooks: no promise per request on the warm path
  app.addHook('onRequest', (request, reply, done) => {
    if (exempt.has(request.url.split('?')[0] ?? '')) return done();
    const client = clientOf(request);
    const mine = perClient.get(client) ?? 0;
    if (inflight >= options.maxInflight || mine >= options.perClientConcurrency) {
      options.metrics.rejected('overload');
      request.log.warn({ client: client.slice(0, 24), inflight, mine }, 'overloaded: 503');
      reply
        .code(503)
        .header('retry-after', String(options.retryAfterSeconds))
        .send({ error: 'overloaded: too many requests in flight; retry later' });
      return;
    }
    inflight++;
    perClient.set(client, mine + 1);
    (request as unknown as Record<symbol, string>)[tracked] = client;
    done();
  });
  const release = (request: FastifyRequest): void => {
    const client = (request as unknown as Record<symbol, string | undefined>)[tracked];
    if (client === undefined) return;
    (request as unknown as Record<symbol, string | undefined>)[tracked] = undefined;
    inflight--;
    const left = (perClient.get(client) ?? 1) - 1;
    if (left <= 0) perClient.delete(client);
    else perClient.set(client, left);
  };
  app.addHook('onResponse', (request, _reply, done) => {
    release(request);
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    release(request);
    done();
  });
  return () => inflight;
}
