/**
 * The fault of the fault suite: a loopback TCP proxy in front of a real service (PLC directory,
 * PDS, OCSP responder, TSA) whose behaviour is switched while the test runs:
 *
 * - `pass`: forwards both ways;
 * - `down`: not listening (connections refused, as a crashed service);
 * - `hang`: accepts and never answers (a wedged service, or a network that drops everything);
 * - `slow`: forwards, holding each chunk `slowMs` (a service slower than vouch's deadline).
 *
 * Every switch drops the connections open at that moment (as a restart would), so a connection
 * made under one behaviour never carries over into the next. Counts connections per mode.
 */
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'down' | 'hang' | 'slow';

export interface SwitchProxy {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  mode(): ProxyMode;
  set(mode: ProxyMode, slowMs?: number): Promise<void>;
  /** Connections accepted while in `mode`. */
  connections(mode: ProxyMode): number;
  /** HTTP requests received while in `mode` (with `http` only). */
  requests(mode: ProxyMode): number;
  stop(): Promise<void>;
}

/**
 * Starts a proxy on a free loopback port forwarding to `127.0.0.1:targetPort`. With `http`, it
 * forwards HTTP requests one by one, each on a fresh upstream connection that closes after its
 * response: for `openssl ocsp`, a single process that serves one connection at a time and waits,
 * without a deadline, for the next request on a keep-alive connection (or the first on an idle
 * one), so a client's idle pooled connection would block every other client.
 */
export async function startSwitchProxy(
  targetPort: number,
  options: { http?: boolean } = {},
): Promise<SwitchProxy> {
  let mode: ProxyMode = 'pass';
  let slowMs = 0;
  const counts: Record<ProxyMode, number> = { pass: 0, down: 0, hang: 0, slow: 0 };
  const requestCounts: Record<ProxyMode, number> = { pass: 0, down: 0, hang: 0, slow: 0 };
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  };
  const forwardHttp = createHttpServer((req, res) => {
    requestCounts[mode]++;
    if (mode === 'hang') return;
    const send = () => {
      const up = httpRequest(
        {
          host: '127.0.0.1',
          port: targetPort,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, connection: 'close' },
          agent: false,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      req.pipe(up);
    };
    if (mode === 'slow') setTimeout(send, slowMs);
    else send();
  });
  const server: Server = createServer((client) => {
    counts[mode]++;
    track(client);
    if (options.http) {
      forwardHttp.emit('connection', client);
      return;
    }
    if (mode === 'hang') return;
    const upstream = connect(targetPort, '127.0.0.1');
    track(upstream);
    const delay = mode === 'slow' ? slowMs : 0;
    const pipe = (from: Socket, to: Socket) => {
      from.on('data', (chunk: Buffer) => {
        if (delay === 0) to.write(chunk);
        else setTimeout(() => to.destroyed || to.write(chunk), delay);
      });
      from.on('end', () => setTimeout(() => to.end(), delay));
      from.on('close', () => setTimeout(() => to.destroy(), delay));
    };
    pipe(client, upstream);
    pipe(upstream, client);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const dropAll = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    mode: () => mode,
    connections: (m) => counts[m],
    requests: (m) => requestCounts[m],
    async set(next, ms = 0) {
      const wasDown = mode === 'down';
      mode = next;
      slowMs = ms;
      dropAll();
      if (next === 'down' && !wasDown) await new Promise<void>((resolve) => server.close(() => resolve()));
      if (next !== 'down' && wasDown) await listen(port);
    },
    async stop() {
      dropAll();
      if (mode !== 'down') await new Promise<void>((resolve) => server.close(() => resolve()));
      mode = 'down';
    },
  };
}
