/**
 * A fault server of the "slow network" kind: a loopback TCP proxy that holds every chunk for half
 * the wanted round-trip time in each direction (so one request/response exchange costs one RTT)
 * without limiting throughput, and counts registry API requests (`GET|HEAD … /v2/`) passing
 * through. The real registry sits behind it; this machine's kernel has no netem.
 * Used by the deadline tests and by the benchmarks (bench/server-cold.ts).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface DelayProxy {
  /** `127.0.0.1:PORT` to use instead of the target. */
  readonly host: string;
  /** Registry API requests seen so far. */
  requests(): number;
  /** Request lines seen (`GET /v2/…`), when started with `record: true`. */
  lines(): string[];
  /** Changes the delay for data sent from now on. */
  setRttMs(rttMs: number): void;
  stop(): Promise<void>;
}

const REQUEST_LINE = /(?:GET|HEAD|POST|PUT|PATCH|DELETE) \/v2\/[^ ]*/g;

function pump(from: Socket, to: Socket, delay: () => number, onData?: (chunk: Buffer) => void): void {
  // chunks are released in order, each no earlier than its arrival + delay
  let chain = Promise.resolve();
  from.on('data', (chunk: Buffer) => {
    onData?.(chunk);
    const due = performance.now() + delay();
    chain = chain.then(async () => {
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (!to.destroyed) to.write(chunk);
    });
  });
  from.on('end', () => {
    chain = chain.then(() => {
      to.end();
    });
  });
  from.on('error', () => to.destroy());
}

/** Starts a proxy to `127.0.0.1:targetPort` adding `rttMs` of round-trip time. */
export async function startDelayProxy(
  targetPort: number,
  rttMs: number,
  options: { record?: boolean } = {},
): Promise<DelayProxy> {
  const seen: string[] = [];
  let oneWay = rttMs / 2;
  let count = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    pump(
      client,
      upstream,
      () => oneWay,
      (chunk) => {
        const found = chunk.toString('latin1').match(REQUEST_LINE) ?? [];
        count += found.length;
        if (options.record) seen.push(...found);
      },
    );
    pump(upstream, client, () => oneWay);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    requests: () => count,
    lines: () => [...seen],
    setRttMs(ms) {
      oneWay = ms / 2;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
