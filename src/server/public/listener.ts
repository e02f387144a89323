/**
 * The public listener of remote application verification (docs/remote-verification.md): a
 * fastify instance apart from the webhook server, answering GET and HEAD only (405 otherwise),
 * rate-limited per client address and in total (429 with Retry-After), with no client
 * certificate and no decision of its own:
 *
 * - `GET /v1/applications/<namespace>`: the namespace's admitted images as a DSSE envelope signed
 *   with vouch's key (`Accept: text/html`: the same list as a page);
 * - `GET /v1/keys`: vouch's public key, JSON (`Accept: application/x-pem-file` or `text/plain`:
 *   PEM).
 *
 * A namespace that did not opt in, or has nothing listed, is a 404 like an unknown one, so the
 * listener does not tell which namespaces exist.
 */
import type { Server as HttpsServer } from 'node:https';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Logger } from '../../observability/logger.js';
import { parseListen } from '../config.js';
import { boundSlowClients, slowClientFastifyOptions, slowClientTlsOptions } from '../slow-clients.js';
import type { TlsWatcher } from '../tls.js';
import { readTlsMaterial, secureContextOptions, watchTls } from '../tls.js';
import type { PublicVerificationConfig } from './config.js';
import { type ApplicationsPayload, DSSE_ENVELOPE_MEDIA_TYPE, signApplications } from './envelope.js';
import { renderApplicationsPage } from './html.js';
import { createRateLimiter } from './rate-limit.js';
import type { PublicSigningKey } from './signing-key.js';
import type { ApplicationStore } from './store.js';

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
} as const;

export interface PublicListenerOptions {
  readonly config: PublicVerificationConfig;
  readonly store: ApplicationStore;
  readonly key: PublicSigningKey;
  readonly logger: Logger;
}

export interface PublicListener {
  readonly app: FastifyInstance;
  readonly tls?: TlsWatcher;
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** Whether the client asked for a page rather than the envelope. */
function wantsHtml(request: FastifyRequest): boolean {
  const accept = String(request.headers.accept ?? '');
  return /\btext\/html\b/i.test(accept) && !/application\/(vnd\.dsse\.envelope\.v1\+)?json/i.test(accept);
}

function baseUrl(request: FastifyRequest, config: PublicVerificationConfig, tls: boolean): string {
  if (config.publicUrl) return config.publicUrl.replace(/\/+$/, '');
  const host = String(request.headers.host ?? 'localhost').replace(/[^A-Za-z0-9.:[\]-]/g, '');
  return `${tls ? 'https' : 'http'}://${host}`;
}

export async function createPublicListener(options: PublicListenerOptions): Promise<PublicListener> {
  const { config, store, key, logger } = options;
  const initial = config.tls ? await readTlsMaterial(config.tls) : undefined;
  const app = Fastify({
    logger: false,
    bodyLimit: 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ...slowClientFastifyOptions,
    ...(initial ? { https: { ...secureContextOptions(initial), ...slowClientTlsOptions } } : {}),
  }) as unknown as FastifyInstance;
  // the public listener takes anyone's connection: slowloris must not hold them
  boundSlowClients(app.server);
  let tls: TlsWatcher | undefined;
  if (config.tls && initial) {
    tls = watchTls({
      files: config.tls,
      initial,
      pollMs: 5000,
      logger,
      apply: (m) => (app.server as HttpsServer).setSecureContext(secureContextOptions(m)),
    });
  }
  const limiter = createRateLimiter(config.rateLimit);

  app.addHook('onRequest', async (request, reply) => {
    void reply.headers(SECURITY_HEADERS);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return reply.code(405).header('allow', 'GET, HEAD').send({ error: 'only GET and HEAD are served' });
    }
    const wait = limiter.take(request.ip);
    if (wait > 0) return reply.code(429).header('retry-after', String(wait)).send({ error: 'rate limited' });
    return undefined;
  });

  const notFound = (reply: FastifyReply) => reply.code(404).send({ error: 'nothing published here' });

  app.get('/v1/keys', async (request, reply) => {
    const accept = String(request.headers.accept ?? '');
    if (/application\/x-pem-file|text\/plain/i.test(accept))
      return reply.type('application/x-pem-file').send(key.publicKeyPem);
    return reply.send({
      keys: [{ keyid: key.publicKey.id, algorithm: key.publicKey.algorithm, publicKey: key.publicKeyPem }],
    });
  });

  app.get<{ Params: { namespace: string } }>('/v1/applications/:namespace', async (request, reply) => {
    const { namespace } = request.params;
    if (!NAMESPACE.test(namespace)) return notFound(reply);
    const images = await store.list(namespace);
    if (images.length === 0) return notFound(reply);
    const payload: ApplicationsPayload = {
      apiVersion: 'vouch.dev/v1',
      kind: 'Applications',
      namespace,
      issuedAt: new Date().toISOString(),
      ttlSeconds: config.ttlSeconds,
      images,
    };
    if (wantsHtml(request)) {
      const url = `${baseUrl(request, config, Boolean(initial))}/v1/applications/${namespace}`;
      return reply.type('text/html; charset=utf-8').send(renderApplicationsPage(payload, url));
    }
    return reply
      .type(DSSE_ENVELOPE_MEDIA_TYPE)
      .header('vary', 'accept')
      .send(JSON.stringify(signApplications(payload, key.privateKey, key.publicKey.id)));
  });

  app.setNotFoundHandler((_request, reply) => notFound(reply));
  app.setErrorHandler((error: FastifyError, request, reply) => {
    logger.warn({ url: request.url, error: error.message }, 'public request failed');
    const status =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    return reply.code(status).send({ error: status < 500 ? error.message : 'internal error' });
  });

  return {
    app,
    ...(tls ? { tls } : {}),
    async listen() {
      const { host, port: wanted } = parseListen(config.listen);
      await app.listen({ host, port: wanted });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : wanted;
      return `${initial ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
    },
    async close() {
      tls?.close();
      await app.close();
    },
  };
}
