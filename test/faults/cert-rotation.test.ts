/**
 * Fault suite (issue 15, item 2): the server's TLS certificate rotated under a bounded load, on the
 * real server (HTTPS, mTLS, the certificate files watched and polled, src/server/tls.ts) deciding
 * cosign-signed images on a real registry. The rotation passes through a broken half-way state (the
 * new certificate beside the old key, as a non-atomic secret update writes it), which must be
 * ignored. Asserted: no request of the load fails (each worker opens a fresh connection per request,
 * so handshakes happen throughout, plus one keep-alive connection opened before the rotation);
 * health and the warm decision answer within the deadline; an unsigned image stays denied; new
 * connections see the new certificate, and how long that takes after the last write is logged.
 */
import assert from 'node:assert/strict';
import { copyFile, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:tls';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import {
  cosignConfig,
  createClient,
  createPki,
  createSignedImages,
  type RunningServer,
  type SignedImages,
  startServer,
  type TestPki,
} from '../server/harness.js';
import { allows, assertStillServing, logRecovery, provider, timeToRecover } from './fault-kit.js';

const FILE = 'cert-rotation';
const WORKERS = 3;
const MAX_REQUESTS = 400; // the load is bounded in count as well as in time

async function peerFingerprint(
  url: string,
  ca: Buffer,
  client: { cert: Buffer; key: Buffer },
): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: u.hostname, port: Number(u.port), ca, ...client, servername: 'localhost' },
      () => {
        resolve(socket.getPeerCertificate().fingerprint256);
        socket.end();
      },
    );
    socket.once('error', reject);
  });
}

/** Replaces `target` by `source` the way a secret update does: a copy beside it, then a rename. */
async function replace(source: string, target: string): Promise<void> {
  await copyFile(source, `${target}.tmp`);
  await rename(`${target}.tmp`, target);
}

describe('fault: server certificate rotation under load', { timeout: 60_000 }, () => {
  let registry: TestRegistry;
  let images: SignedImages;
  let pki: TestPki;
  let vouch: RunningServer;
  let caFile: string;
  let clientId: { cert: string; key: string };
  const live = { cert: '', key: '' };
  let warmKey = '';
  let unsignedKey = '';

  before(async () => {
    [registry, pki] = await Promise.all([startRegistry(), createPki()]);
    images = await createSignedImages(registry.host);
    await images.push('app', 'warm', true);
    await images.push('app', 'unsigned', false);
    warmKey = `${registry.host}/app:warm`;
    unsignedKey = `${registry.host}/app:unsigned`;
    caFile = path.join(pki.dir, 'ca.crt');
    clientId = await pki.leaf('gatekeeper');
    const first = await pki.leaf('server-old');
    live.cert = path.join(pki.dir, 'live.crt');
    live.key = path.join(pki.dir, 'live.key');
    await copyFile(first.cert, live.cert);
    await copyFile(first.key, live.key);
    vouch = await startServer(cosignConfig([registry.host], images.publicKeyFile), {
      tls: { certFile: live.cert, keyFile: live.key, clientCaFile: caFile, pollMs: 200 },
    });
  });
  after(async () => {
    await vouch?.stop();
    await images?.close();
    await registry?.stop();
  });

  it('loses no request, keeps the warm decision fast, ignores the half-written state and serves the new certificate', async () => {
    const ca = await readFile(caFile);
    const id = { cert: await readFile(clientId.cert), key: await readFile(clientId.key) };
    const keepAlive = await createClient(caFile, clientId, 1);
    const warm = await provider(keepAlive, vouch.url, [warmKey]);
    assert.ok(allows(warm.items[0]), 'the warm image verifies before the rotation');
    const oldPrint = await peerFingerprint(vouch.url, ca, id);

    let stop = false;
    let done = 0;
    const failures: string[] = [];
    const worker = async (w: number) => {
      while (!stop && done < MAX_REQUESTS) {
        const c = await createClient(caFile, clientId, 1);
        try {
          const keys = done % 5 === 0 ? [warmKey, unsignedKey] : [warmKey];
          const res = await provider(c, vouch.url, keys);
          if (res.status !== 200 || !allows(res.items[0]))
            failures.push(`worker ${w}: ${JSON.stringify(res)}`);
          if (keys.length === 2 && allows(res.items[1])) failures.push('the unsigned image was allowed');
        } catch (err) {
          failures.push(`worker ${w}: ${(err as Error).message}`);
        } finally {
          done++;
          await c.close();
        }
      }
    };
    const load = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    let rotateMs = 0;
    try {
      await timeToRecover(async () => done >= 20, 10_000, 20);
      const next = await pki.leaf('server-new');
      // 1. half-way: the new certificate beside the old key; the server must keep the old pair
      await replace(next.cert, live.cert);
      const halfway = done;
      await new Promise((r) => setTimeout(r, 600)); // longer than the 200 ms poll: it was looked at
      assert.equal(await peerFingerprint(vouch.url, ca, id), oldPrint, 'a mismatched pair was installed');
      await assertStillServing(keepAlive, vouch.url, warmKey);
      assert.ok(done > halfway, 'requests kept flowing during the half-written state');
      // 2. the key follows: the new pair is installed for new handshakes
      await replace(next.key, live.key);
      rotateMs = await timeToRecover(
        async () => (await peerFingerprint(vouch.url, ca, id)) !== oldPrint,
        10_000,
        20,
      );
      const servingMs = await assertStillServing(keepAlive, vouch.url, warmKey);
      const after = done;
      await timeToRecover(async () => done >= after + 20 || done >= MAX_REQUESTS, 15_000, 20);
      console.log(
        `[fault-suite] ${FILE}: health+warm on the old keep-alive connection ${Math.round(servingMs)} ms`,
      );
    } finally {
      stop = true;
      await load;
      await keepAlive.close();
    }
    const fresh = await createClient(caFile, clientId, 1);
    try {
      const res = await provider(fresh, vouch.url, [warmKey, unsignedKey]);
      assert.ok(allows(res.items[0]));
      assert.equal(allows(res.items[1]), false);
    } finally {
      await fresh.close();
    }
    assert.deepEqual(failures.slice(0, 3), [], `${failures.length} of ${done} requests failed`);
    assert.ok(done >= 40, `only ${done} requests ran`);
    logRecovery(
      FILE,
      'certificate rotation',
      rotateMs,
      `new certificate on new connections after the key was written; ${done} requests, 0 failed`,
    );
  });
});
