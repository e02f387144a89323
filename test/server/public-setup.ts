/**
 * The live set-up of the remote-verification tests: a real registry with cosign-signed images,
 * vouch's webhook server over HTTPS with mTLS (the API server's side) and its public listener
 * (plain HTTP, the world's side), vouch's own signing key (EC P-256) and its public key file.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import type { VouchConfigInput } from '../../src/config/schema.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import {
  cosignConfig,
  createClient,
  createPki,
  createSignedImages,
  type RunningServer,
  type SignedImages,
  startServer,
  type TestClient,
} from './harness.js';
import type { AdmissionAnswer } from './public-review.js';

export interface PublicSetup {
  readonly registry: TestRegistry;
  readonly images: SignedImages;
  readonly vouch: RunningServer;
  /** mTLS client of the webhook server. */
  readonly client: TestClient;
  /** `http://127.0.0.1:PORT` of the public listener. */
  readonly publicUrl: string;
  /** vouch's public key (PEM file) readers pin. */
  readonly vouchPub: string;
  readonly dir: string;
  admit(review: unknown, path?: string): Promise<AdmissionAnswer>;
  get(url: string, headers?: Record<string, string>, method?: string): Promise<PublicResponse>;
  close(): Promise<void>;
}

export interface PublicResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

export async function startPublicSetup(
  publicVerification: Record<string, unknown> = {},
  server: Record<string, unknown> = {},
  /** The cluster's vouch.yaml (default: cosign, the images' key, on every image). */
  config: (registryHost: string, imagesKeyFile: string) => VouchConfigInput = (host, key) =>
    cosignConfig([host], key),
): Promise<PublicSetup> {
  const registry = await startRegistry();
  const images = await createSignedImages(registry.host);
  const dir = await mkdtemp(path.join(tmpdir(), 'vouch-public-'));
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signingKeyFile = path.join(dir, 'vouch.key');
  const vouchPub = path.join(dir, 'vouch.pub');
  await writeFile(signingKeyFile, pair.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  await writeFile(vouchPub, pair.publicKey.export({ format: 'pem', type: 'spki' }));
  const pki = await createPki();
  const serverCert = await pki.leaf('server');
  const clientCert = await pki.leaf('client');
  const vouch = await startServer(config(registry.host, images.publicKeyFile), {
    tls: { certFile: serverCert.cert, keyFile: serverCert.key, clientCaFile: path.join(pki.dir, 'ca.crt') },
    publicVerification: {
      enabled: true,
      listen: '127.0.0.1:0',
      signingKeyFile,
      rateLimit: { perClientPerSecond: 500, burst: 500, totalPerSecond: 1000 },
      ...publicVerification,
    },
    ...server,
  });
  const client = await createClient(path.join(pki.dir, 'ca.crt'), clientCert);
  const publicUrl = vouch.server.publicUrl();
  if (!publicUrl) throw new Error('the public listener did not start');
  return {
    registry,
    images,
    vouch,
    client,
    publicUrl,
    vouchPub,
    dir,
    async admit(review, webhookPath = '/admission/validate') {
      const res = await client.post(`${vouch.url}${webhookPath}?timeout=20s`, review);
      if (res.status !== 200)
        throw new Error(`admission answered ${res.status}: ${JSON.stringify(res.json)}`);
      return (res.json as { response: AdmissionAnswer }).response;
    },
    async get(url, headers = {}, method = 'GET') {
      const res = await request(url, { method: method as 'GET', headers });
      return {
        status: res.statusCode,
        headers: res.headers,
        body: Buffer.from(await res.body.arrayBuffer()),
      };
    },
    async close() {
      await client.close();
      await vouch.stop();
      await images.close();
      await registry.stop();
      await rm(pki.dir, { recursive: true, force: true });
      await rm(dir, { recursive: true, force: true });
    },
  };
}
