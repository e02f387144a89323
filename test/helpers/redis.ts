/**
 * A real Redis for tests: Debian's `redis-server` on a free loopback port, no persistence, in a
 * temporary directory. `kill()` stops it hard (SIGKILL) to simulate a crash mid-test; `restart()`
 * brings it back on the same port, empty.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** SIGKILL: connections drop at once, nothing is flushed. */
  kill(): Promise<void>;
  /** Starts a new, empty server on the same port. */
  restart(): Promise<void>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number, proc: ChildProcess): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(20);
  }
  throw new Error(`redis-server did not listen on ${port} within ${timeoutMs} ms`);
}

/** Starts redis-server on a free loopback port. */
export async function startRedis(): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-redis-'));
  const port = await freePort();
  let proc: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--protected-mode',
        'yes',
      ],
      { stdio: 'ignore' },
    );
    proc = child;
    await waitForPort(port, 5000, child);
  };
  const exited = (child: ChildProcess): Promise<void> =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise((resolve) => child.once('exit', () => resolve()));

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      if (!proc) return;
      const child = proc;
      child.kill('SIGKILL');
      await exited(child);
    },
    restart: launch,
    async stop() {
      if (proc) {
        const child = proc;
        child.kill('SIGTERM');
        await Promise.race([exited(child), sleep(3000)]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
