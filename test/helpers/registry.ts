/**
 * Starts a real OCI registry for tests: Debian's `docker-registry` (CNCF distribution 2.8) on a
 * free loopback port with temporary storage, optionally behind htpasswd basic auth or token auth.
 * scripts/test.sh installs `docker-registry` (and `apache2-utils` for `htpasswd`) when missing.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stopChild } from './child.js';

const execFileAsync = promisify(execFile);

export const REGISTRY_BINARY = process.env.VOUCH_TEST_REGISTRY_BIN ?? '/usr/bin/docker-registry';

export interface HtpasswdAuth {
  readonly htpasswd: { readonly user: string; readonly password: string };
}
export interface TokenAuth {
  /** From test/helpers/token-issuer.ts (`realm`, `service`, `issuer`, `certPath`). */
  readonly token: {
    readonly realm: string;
    readonly service: string;
    readonly issuer: string;
    readonly certPath: string;
  };
}

export interface StartRegistryOptions {
  readonly auth?: HtpasswdAuth | TokenAuth;
  /** How long to wait for GET /v2/ to answer (default 10 s). */
  readonly startTimeoutMs?: number;
  /** Loopback port to listen on (default: a free one). */
  readonly port?: number;
}

export interface TestRegistry {
  /** `127.0.0.1:PORT`, for references and `insecureHosts`. */
  readonly host: string;
  /** Storage and config directory (removed by stop). */
  readonly dataDir: string;
  /** The registry's recent log lines (for failure messages). */
  log(): string;
  /** SIGKILL (a crash): connections drop at once; storage is kept. */
  kill(): Promise<void>;
  /** Starts the registry again on the same port and storage (after `kill`), resolving once it answers. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** `htpasswd -nbB user password` (bcrypt, the only hash distribution accepts). */
async function htpasswdLine(user: string, password: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync('htpasswd', ['-nbB', user, password], { timeout: 10_000 });
    return stdout.trim();
  } catch (err) {
    throw new Error(
      `htpasswd (apt package apache2-utils) is needed for basic-auth tests: ${(err as Error).message}`,
    );
  }
}

function authYaml(auth: StartRegistryOptions['auth'], htpasswdPath: string): string {
  if (!auth) return '';
  if ('htpasswd' in auth) return `auth:\n  htpasswd:\n    realm: vouch-test\n    path: ${htpasswdPath}\n`;
  const t = auth.token;
  return (
    'auth:\n  token:\n' +
    `    realm: ${JSON.stringify(t.realm)}\n    service: ${JSON.stringify(t.service)}\n` +
    `    issuer: ${JSON.stringify(t.issuer)}\n    rootcertbundle: ${JSON.stringify(t.certPath)}\n`
  );
}

/** Spawns the registry and resolves once it answers GET /v2/ (any status). */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<TestRegistry> {
  const dataDir = await mkdtemp(join(tmpdir(), 'vouch-registry-'));
  const htpasswdPath = join(dataDir, 'htpasswd');
  if (options.auth && 'htpasswd' in options.auth) {
    const { user, password } = options.auth.htpasswd;
    await writeFile(htpasswdPath, `${await htpasswdLine(user, password)}\n`);
  }
  const config = (port: number): string =>
    'version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\n' +
    `storage:\n  filesystem:\n    rootdirectory: ${JSON.stringify(join(dataDir, 'storage'))}\n  delete:\n    enabled: true\n` +
    '  maintenance:\n    uploadpurging:\n      enabled: false\n' +
    `http:\n  addr: 127.0.0.1:${port}\n  secret: vouch-test-secret\n` +
    authYaml(options.auth, htpasswdPath);
  const configPath = join(dataDir, 'config.yml');
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  let logText = '';
  let child: ChildProcess;
  const launch = async (port: number): Promise<string> => {
    await writeFile(configPath, config(port));
    const proc: ChildProcess = spawn(REGISTRY_BINARY, ['serve', configPath], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = proc;
    const host = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`registry did not start within ${timeoutMs} ms:\n${logText}`)),
        timeoutMs,
      );
      proc.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`cannot run ${REGISTRY_BINARY} (apt package docker-registry): ${err.message}`));
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`registry exited with ${code} before listening:\n${logText}`));
      });
      let launchLog = ''; // this start's lines only: an earlier start also logged "listening on"
      proc.stderr?.setEncoding('utf8');
      proc.stderr?.on('data', (chunk: string) => {
        logText = (logText + chunk).slice(-16_384);
        launchLog = (launchLog + chunk).slice(-4096);
        const m = /listening on (127\.0\.0\.1:\d+)/.exec(launchLog);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    }).catch((err: unknown) => {
      proc.kill('SIGKILL');
      throw err;
    });
    proc.removeAllListeners('exit');

    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const res = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        return host;
      } catch (err) {
        if (Date.now() > deadline) {
          proc.kill('SIGKILL');
          throw new Error(`registry at ${host} does not answer GET /v2/: ${(err as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const host = await launch(options.port ?? 0).catch(async (err: unknown) => {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  });
  const port = Number(host.split(':')[1]);

  return {
    host,
    dataDir,
    log: () => logText,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    },
    async restart() {
      await launch(port);
    },
    async stop() {
      await stopChild(child);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
