/**
 * Probes and metrics: `GET /health` (liveness, `{"status":"ok","version"}` as the ATCR provider
 * document has it), `GET /ready` (readiness: config and trust material loaded, TLS material loaded,
 * cache reachable; details say which part is not), `GET /metrics` (Prometheus text).
 *
 * A Redis outage does not make the server unready: it serves from memory (never failing open), and
 * /ready reports `cache.degraded: true` so operators see it. Draining (SIGTERM) makes it unready.
 */
import type { FastifyInstance } from 'fastify';
import type { ServerMetrics } from '../observability/metrics.js';
import { VERSION } from '../version.js';

/** One readiness check: ok plus details shown in /ready. */
export type ReadinessCheck = () => { ok: boolean; details: Record<string, unknown> };

export interface HealthRouteOptions {
  readonly metrics: ServerMetrics;
  readonly checks: Readonly<Record<string, ReadinessCheck>>;
  readonly draining: () => boolean;
}

export function registerHealthRoutes(app: FastifyInstance, opts: HealthRouteOptions): void {
  app.get('/health', async () => ({ status: 'ok', version: VERSION }));
  app.get('/ready', async (_request, reply) => {
    const details: Record<string, unknown> = {};
    let ready = !opts.draining();
    for (const [name, check] of Object.entries(opts.checks)) {
      const result = check();
      details[name] = { ok: result.ok, ...result.details };
      if (!result.ok) ready = false;
    }
    if (opts.draining()) details.draining = true;
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'not ready', version: VERSION, checks: details });
  });
  app.get('/metrics', async (_request, reply) => {
    const text = await opts.metrics.registry.metrics();
    return reply.header('content-type', opts.metrics.registry.contentType).send(text);
  });
}
