/**
 * A fault server: a tiny hand-written HTTP server on 127.0.0.1 for registry behaviour the real
 * registry (distribution 2.8) cannot be made to show: wrong digests, truncated or endless bodies,
 * 429 with Retry-After, redirects to other hosts, the Referrers API, schema 1, odd error bodies.
 * Each test gives it a handler; it records every request it saw.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}

export type FaultHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  seen: FaultRequest[],
) => void | Promise<void>;

export interface FaultServer {
  /** `127.0.0.1:PORT` */
  readonly host: string;
  readonly requests: FaultRequest[];
  /** Replaces the handler (for tests that reuse one server). */
  handle(handler: FaultHandler): void;
  stop(): Promise<void>;
}

/** Starts a fault server with `handler` (404 for everything when omitted). */
export async function startFaultServer(handler?: FaultHandler): Promise<FaultServer> {
  const requests: FaultRequest[] = [];
  let current: FaultHandler =
    handler ??
    ((_req, res) => {
      res.writeHead(404).end();
    });
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    Promise.resolve(current(req, res, requests)).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`fault server handler failed: ${String(err)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    handle(h) {
      current = h;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Writes a JSON body with Content-Length. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const bytes = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(bytes.byteLength),
    ...headers,
  });
  res.end(bytes);
}

/**
 * Forwards one GET or HEAD to `upstream` (`host:port`, plain HTTP) at `path` and copies the answer
 * back (status, content type, digest and length headers, body): a fault server in front of a real
 * registry serves its content unchanged except where a test injects a fault.
 */
export async function forwardTo(
  req: IncomingMessage,
  res: ServerResponse,
  upstream: string,
  path: string,
): Promise<void> {
  const method = req.method === 'HEAD' ? 'HEAD' : 'GET';
  const accept = req.headers.accept;
  const answer = await fetch(`http://${upstream}${path}`, {
    method,
    headers: accept ? { accept } : {},
    redirect: 'manual',
    signal: AbortSignal.timeout(10_000),
  });
  const headers: Record<string, string> = {};
  for (const name of ['content-type', 'docker-content-digest', 'content-length', 'location', 'link']) {
    const v = answer.headers.get(name);
    if (v !== null) headers[name] = v;
  }
  const body = method === 'HEAD' ? undefined : Buffer.from(await answer.arrayBuffer());
  if (body) headers['content-length'] = String(body.byteLength);
  res.writeHead(answer.status, headers);
  res.end(body);
}
