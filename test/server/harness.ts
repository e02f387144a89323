/**
 * Shared set-up of the server tests: a real registry with cosign-signed and unsigned images, TLS
 * material made with openssl (a CA, a server certificate for 127.0.0.1, client certificates), the
 * real Engine built by the config loader, and an HTTPS client that presents a client certificate.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import type { Cache } from '../../src/cache/types.js';
import { buildRuntime, type Runtime } from '../../src/config/runtime.js';
import { configSchema, type VouchConfigInput } from '../../src/config/schema.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createServerMetrics } from '../../src/observability/metrics.js';
import { parseReference } from '../../src/reference/parse.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/client.js';
import type { Descriptor } from '../../src/registry/types.js';
import { parseServerConfig, type ServerConfig } from '../../src/server/config.js';
import { createServer, type VouchServer } from '../../src/server/server.js';
import { decryptCosignKey, generateCosignKeyPair, signCosign } from '../../src/sign/cosign/index.js';
import { pushTestImage } from '../helpers/images.js';
import { openssl, selfSignedArgs } from '../helpers/openssl.js';

/** A CA and certificates it signed, as files in `dir`. */
export interface TestPki {
  readonly dir: string;
  /** `<name>.crt`, `<name>.key` for a leaf signed by `ca` with SAN IP:127.0.0.1. */
  leaf(name: string, ca?: string): Promise<{ cert: string; key: string }>;
  /** Creates another CA `<name>.crt/.key`. */
  ca(name: string): Promise<string>;
}

export async function createPki(): Promise<TestPki> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vouch-pki-'));
  const ca = async (name: string): Promise<string> => {
    await openssl(
      selfSignedArgs({
        key: 'ec',
        keyOut: `${name}.key`,
        certOut: `${name}.crt`,
        subject: `/CN=${name}`,
        days: 2,
      }),
      dir,
    );
    return path.join(dir, `${name}.crt`);
  };
  await ca('ca');
  return {
    dir,
    ca,
    async leaf(name, issuer = 'ca') {
      await openssl(
        [
          'req',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-keyout',
          `${name}.key`,
          '-out',
          `${name}.csr`,
          '-subj',
          `/CN=${name}`,
        ],
        dir,
      );
      await writeFile(
        path.join(dir, `${name}.ext`),
        'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n',
      );
      await openssl(
        [
          'x509',
          '-req',
          '-in',
          `${name}.csr`,
          '-CA',
          `${issuer}.crt`,
          '-CAkey',
          `${issuer}.key`,
          '-CAcreateserial',
          '-out',
          `${name}.crt`,
          '-days',
          '2',
          '-extfile',
          `${name}.ext`,
        ],
        dir,
      );
      return { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
    },
  };
}

/** An HTTPS client with a client certificate (or none), keep-alive. */
export interface TestClient {
  post(
    url: string,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Record<string, unknown>; json: unknown }>;
  get(url: string): Promise<{ status: number; text: string }>;
  close(): Promise<void>;
}

export async function createClient(
  caFile: string,
  client?: { cert: string; key: string },
  connections = 8,
): Promise<TestClient> {
  const ca = await readFile(caFile);
  const tlsOptions = client
    ? { ca, cert: await readFile(client.cert), key: await readFile(client.key) }
    : { ca };
  const dispatcher = new Agent({
    connect: { ...tlsOptions, servername: 'localhost' },
    connections,
    pipelining: 1,
  });
  return {
    async post(url, body, headers = {}) {
      const res = await request(url, {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.body.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = text;
      }
      return { status: res.statusCode, headers: res.headers, json };
    },
    async get(url) {
      const res = await request(url, { method: 'GET', dispatcher });
      return { status: res.statusCode, text: await res.body.text() };
    },
    close: () => dispatcher.close(),
  };
}

/** Images on the registry: `signed` (cosign key, tag schema) and `unsigned`. */
export interface SignedImages {
  readonly client: RegistryClient;
  readonly publicKeyFile: string;
  readonly dir: string;
  /** Pushes a new image `repo:tag`, cosign-signed when `signed` (a number: that many signatures). */
  push(repo: string, tag: string, signed: boolean | number): Promise<Descriptor>;
  close(): Promise<void>;
}

export async function createSignedImages(registryHost: string): Promise<SignedImages> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vouch-server-keys-'));
  const pair = generateCosignKeyPair('pw');
  const privateKeyPem = decryptCosignKey(pair.privateKeyFile, 'pw');
  const publicKeyFile = path.join(dir, 'cosign.pub');
  await writeFile(publicKeyFile, pair.publicKeyPem);
  const client = createRegistryClient({ insecureHosts: [registryHost] });
  return {
    client,
    publicKeyFile,
    dir,
    async push(repo, tag, signed) {
      const repository = client.repository(parseReference(`${registryHost}/${repo}:${tag}`));
      const subject = await pushTestImage(repository, tag, `${repo}:${tag}:${Math.random()}`);
      if (signed) {
        await signCosign({
          repository,
          subject,
          subjectReference: `${registryHost}/${repo}`,
          privateKeyPem,
          mode: 'tag',
        });
      }
      return subject;
    },
    async close() {
      await client.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The vouch config that requires a cosign signature by `publicKeyFile` on every image. */
export function cosignConfig(
  registryHosts: string[],
  publicKeyFile: string,
  mode: 'enforce' | 'audit' = 'enforce',
): VouchConfigInput {
  return {
    registries: { insecure: registryHosts, dockerConfig: false },
    verifiers: { cosign: { keys: [publicKeyFile] } },
    policy: {
      default: 'deny',
      rules: [
        { name: 'all', scope: '*', mode, match: 'all', require: [{ verifier: 'cosign', artifacts: 'any' }] },
      ],
    },
  } as VouchConfigInput;
}

export interface RunningServer {
  readonly server: VouchServer;
  readonly runtime: Runtime;
  readonly url: string;
  stop(): Promise<void>;
}

/** Builds the real runtime from `config` and serves it on a free loopback port. */
export async function startServer(
  config: VouchConfigInput,
  server: Record<string, unknown>,
  options: { cache?: Cache; baseDir?: string } = {},
): Promise<RunningServer> {
  const parsed = configSchema.parse(config);
  // wired as `vouch serve` wires them, so /metrics has the registry traffic too
  const metrics = createServerMetrics();
  const runtime = await buildRuntime(parsed, {
    baseDir: options.baseDir ?? process.cwd(),
    logger: silentLogger,
    ...(options.cache ? { cache: options.cache } : {}),
    onRegistryRequest: (e) => metrics.onRegistryRequest(e),
  });
  const serverConfig: ServerConfig = parseServerConfig({ listen: '127.0.0.1:0', ...server });
  const vouch = await createServer({
    engine: runtime.engine,
    cache: runtime.cache,
    logger: silentLogger,
    config: serverConfig,
    decisionTtlMs: parsed.cache.ttlSeconds * 1000,
    metrics,
  });
  const url = await vouch.listen();
  return {
    server: vouch,
    runtime,
    url,
    async stop() {
      await vouch.close();
      await runtime.close();
    },
  };
}
