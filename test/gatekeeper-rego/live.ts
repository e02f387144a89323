/**
 * What the real-Rego suite evaluates against: a real registry with cosign-signed and unsigned
 * images, and `vouch serve` itself (the CLI from source, in a child process) over HTTPS with mTLS
 * (`--client-ca`), as the gatekeeper overlay runs it. Gatekeeper's side is a client certificate from
 * the same test CA (Gatekeeper's webhook certificate stands in the cluster) and the serving CA as
 * the Providers' caBundle.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stopChild } from '../helpers/child.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { cosignConfig, createPki, createSignedImages, type SignedImages } from '../server/harness.js';
import { ROOT } from './vouchrego.js';

export interface LiveVouch {
  /** `127.0.0.1:PORT` of the registry. */
  readonly host: string;
  /** Image references on it, as a Pod names them. */
  readonly image: { readonly signed: string; readonly signed2: string; readonly unsigned: string };
  /** Digests of the signed images. */
  readonly digest: { readonly signed: string; readonly signed2: string };
  /** `https://127.0.0.1:PORT` of `vouch serve`. */
  readonly url: string;
  /** An https URL where nothing listens (the provider is down). */
  readonly downUrl: string;
  /** The serving CA (the Providers' caBundle). */
  readonly caFile: string;
  /** The client certificate Gatekeeper presents. */
  readonly clientCert: { readonly cert: string; readonly key: string };
  close(): Promise<void>;
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Spawns `vouch serve` and resolves with its URL once it says it is serving. */
async function serve(args: readonly string[], cwd: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args],
    {
      cwd: ROOT,
      // no re-exec with server heap flags (start-up time); nothing from the caller's VOUCH_* or HTTP_PORT
      env: { PATH: process.env.PATH ?? '', HOME: cwd, TMPDIR: tmpdir(), VOUCH_SERVE_NODE_FLAGS: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vouch serve did not start in 30 s:\n${log}`)), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`vouch serve exited with ${code}:\n${log}`));
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      log = (log + chunk).slice(-8192);
      const m = /vouch: serving on (https:\/\/\S+)/.exec(log);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  }).catch(async (err: unknown) => {
    await stopChild(child);
    throw err;
  });
  child.removeAllListeners('exit');
  return { child, url };
}

/** `vouch serve` over HTTPS + mTLS with a config, and what Gatekeeper needs to call it. */
export interface ServedVouch {
  /** `https://127.0.0.1:PORT`. */
  readonly url: string;
  /** The serving CA (the Providers' caBundle). */
  readonly caFile: string;
  /** The client certificate Gatekeeper presents. */
  readonly clientCert: { readonly cert: string; readonly key: string };
  stop(): Promise<void>;
}

/**
 * Writes `config` (a vouch.yaml as an object) and `files` (name → content, beside it, for the
 * paths the config names) to a scratch directory and serves it as the overlay does: serving
 * certificate, `--client-ca` (mTLS) with a test CA standing in for Gatekeeper's.
 */
export async function serveVouch(config: unknown, files: Record<string, string> = {}): Promise<ServedVouch> {
  const work = await mkdtemp(path.join(tmpdir(), 'vouch-gatekeeper-rego-'));
  const pki = await createPki();
  const cleanup = async () => {
    await rm(work, { recursive: true, force: true });
    await rm(pki.dir, { recursive: true, force: true });
  };
  try {
    const serving = await pki.leaf('server');
    const gatekeeper = await pki.leaf('gatekeeper');
    const configFile = path.join(work, 'vouch.yaml');
    await writeFile(configFile, JSON.stringify(config));
    for (const [name, content] of Object.entries(files)) await writeFile(path.join(work, name), content);
    const caFile = path.join(pki.dir, 'ca.crt');
    const { child, url } = await serve(
      [
        'serve',
        '--config',
        configFile,
        '--listen',
        '127.0.0.1:0',
        '--tls-cert',
        serving.cert,
        '--tls-key',
        serving.key,
        '--client-ca',
        caFile,
      ],
      work,
    );
    return {
      url,
      caFile,
      clientCert: gatekeeper,
      async stop() {
        await stopChild(child);
        await cleanup();
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

export async function startLiveVouch(): Promise<LiveVouch> {
  const registry: TestRegistry = await startRegistry();
  const images: SignedImages = await createSignedImages(registry.host);
  try {
    const signed = await images.push('app', 'signed', true);
    const signed2 = await images.push('tool', 'v2', true);
    await images.push('app', 'unsigned', false);
    const served = await serveVouch(cosignConfig([registry.host], images.publicKeyFile));
    return {
      host: registry.host,
      image: {
        signed: `${registry.host}/app:signed`,
        signed2: `${registry.host}/tool:v2`,
        unsigned: `${registry.host}/app:unsigned`,
      },
      digest: { signed: signed.digest, signed2: signed2.digest },
      url: served.url,
      downUrl: `https://127.0.0.1:${await closedPort()}`,
      caFile: served.caFile,
      clientCert: served.clientCert,
      async close() {
        await served.stop();
        await images.close();
        await registry.stop();
      },
    };
  } catch (err) {
    await images.close();
    await registry.stop();
    throw err;
  }
}
