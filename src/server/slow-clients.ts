/**
 * Bounds on slow clients (slowloris) for every listener: the longest a client may take to
 * complete the TLS handshake, to send a request's headers, and to send the whole request.
 *
 * Node's defaults (120 s handshake, 60 s headers, checked every 30 s) and fastify's (no request
 * timeout) let a client that drips bytes hold a connection for minutes, or for ever while bytes keep
 * coming. Gatekeeper and the API server send a request at once, and a webhook's `timeoutSeconds`
 * is at most 30 s with vouch's budget inside it, so a request still arriving after 10 s could not
 * be answered in time anyway. Idle keep-alive connections are not affected (`keepAliveTimeout`).
 */
import type { Server as HttpServer } from 'node:http';

/** Handshake, headers and whole-request limit, ms. */
export const SLOW_CLIENT_MS = 10_000;
/** How often Node checks connections against the header and request timeouts (its default: 30 s). */
const SLOW_CLIENT_CHECK_MS = 1000;

/** Fastify options: the whole request must arrive within SLOW_CLIENT_MS. */
export const slowClientFastifyOptions = { requestTimeout: SLOW_CLIENT_MS } as const;

/** TLS server options: the handshake must complete within SLOW_CLIENT_MS. */
export const slowClientTlsOptions = { handshakeTimeout: SLOW_CLIENT_MS } as const;

/** Sets the headers timeout and its check interval; call before the server listens (Node reads them then). */
export function boundSlowClients(server: HttpServer): void {
  server.headersTimeout = SLOW_CLIENT_MS;
  (server as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = SLOW_CLIENT_CHECK_MS;
}
