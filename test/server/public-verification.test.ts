/**
 * Remote application verification against the live server: admission over HTTPS (mTLS) records
 * the images of opted-in namespaces only; the public listener serves them as a DSSE envelope
 * signed with vouch's key (and nothing but GET/HEAD); `vouch verify https://…/v1/applications/NS`
 * (bin/vouch) re-verifies every image from the registry under the caller's policy, refuses a
 * tampered list and a list signed by another key, and fails an image whose signature was deleted
 * from the registry after admission although the server still lists it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { request } from 'undici';
import type { Descriptor } from '../../src/registry/types.js';
import {
  APPLICATIONS_PAYLOAD_TYPE,
  type ApplicationsPayload,
  verifyApplications,
} from '../../src/server/public/envelope.js';
import { parsePublicKey } from '../../src/verifiers/cosign/public-key.js';
import { podReview } from './public-review.js';
import { type PublicSetup, startPublicSetup } from './public-setup.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const VOUCH = path.join(ROOT, 'bin', 'vouch');
const execFileAsync = promisify(execFile);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function vouchCli(...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileAsync(VOUCH, args, { cwd: ROOT, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('remote application verification (live server, real registry)', { timeout: 240_000 }, () => {
  let s: PublicSetup;
  let web: Descriptor;
  let worker: Descriptor;
  let db: Descriptor;
  let cosignKeyId: string;
  const ref = (repo: string, d: Descriptor) => `${s.registry.host}/${repo}@${d.digest}`;

  const envelopeOf = async (ns: string) => {
    const res = await s.get(`${s.publicUrl}/v1/applications/${ns}`);
    return res;
  };
  const listed = async (ns: string): Promise<ApplicationsPayload> => {
    const res = await envelopeOf(ns);
    assert.equal(res.status, 200, res.body.toString());
    const key = parsePublicKey(await readFile(s.vouchPub, 'utf8'), 'vouch.pub');
    const checked = verifyApplications(res.body, [key]);
    assert.ok(checked.ok, JSON.stringify(checked));
    return checked.payload;
  };

  before(async () => {
    // bin/vouch runs the bundle (dist/cli); build it when it or this feature's module is missing
    if (
      !existsSync(path.join(ROOT, 'dist', 'cli', 'main.js')) ||
      !existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'verify-remote.js'))
    )
      await execFileAsync('npm', ['run', '-s', 'build'], { cwd: ROOT, timeout: 180_000 });
    s = await startPublicSetup({ namespaces: ['shop', 'shop-db'] });
    web = await s.images.push('web', 'v1', true);
    worker = await s.images.push('worker', 'v1', true);
    db = await s.images.push('db', 'v1', true);
    cosignKeyId = parsePublicKey(await readFile(s.images.publicKeyFile, 'utf8'), 'cosign.pub').id;
    const shop = await s.admit(
      await podReview({
        namespace: 'shop',
        containers: [
          ['web', ref('web', web)],
          ['worker', `${s.registry.host}/worker:v1`],
        ],
      }),
    );
    assert.equal(shop.allowed, true, shop.status?.message);
    const shopDb = await s.admit(
      await podReview({
        namespace: 'shop-db',
        containers: [
          ['web', ref('web', web)],
          ['db', ref('db', db)],
        ],
      }),
    );
    assert.equal(shopDb.allowed, true, shopDb.status?.message);
  });
  after(async () => {
    await s?.close();
  });

  describe('when a namespace opted in', () => {
    it('lists each admitted image digest-pinned, with its container, rule and verified signer, signed by vouch', async () => {
      const payload = await listed('shop');
      assert.equal(payload.namespace, 'shop');
      assert.equal(payload.kind, 'Applications');
      const byContainer = new Map(payload.images.map((i) => [i.container, i]));
      assert.deepEqual([...byContainer.keys()].sort(), ['web', 'worker']);
      const w = byContainer.get('worker');
      // the tag the pod named is published as the digest it resolved to
      assert.equal(w?.reference, ref('worker', worker));
      assert.equal(w?.digest, worker.digest);
      assert.equal(w?.verified, true);
      assert.equal(w?.rule, 'all');
      assert.equal(w?.signatures[0]?.verifier, 'cosign');
      assert.equal(w?.signatures[0]?.signers[0]?.keyId, cosignKeyId);
      assert.equal(w?.pod, undefined, 'pod names are not published by default');
      assert.ok(Date.parse(w?.admittedAt ?? '') > Date.now() - 120_000);
    });

    it('serves the envelope as DSSE with the documented payloadType, and the key at /v1/keys (JSON and PEM)', async () => {
      const res = await envelopeOf('shop');
      assert.match(String(res.headers['content-type']), /^application\/vnd\.dsse\.envelope\.v1\+json\b/);
      const env = JSON.parse(res.body.toString()) as {
        payloadType: string;
        signatures: Array<{ keyid: string }>;
      };
      assert.equal(env.payloadType, APPLICATIONS_PAYLOAD_TYPE);
      const pem = await readFile(s.vouchPub, 'utf8');
      const keyId = parsePublicKey(pem, 'vouch.pub').id;
      assert.equal(env.signatures[0]?.keyid, keyId);
      const keys = JSON.parse((await s.get(`${s.publicUrl}/v1/keys`)).body.toString()) as {
        keys: Array<{ keyid: string; publicKey: string }>;
      };
      assert.equal(keys.keys[0]?.keyid, keyId);
      const asPem = await s.get(`${s.publicUrl}/v1/keys`, { accept: 'application/x-pem-file' });
      assert.equal(parsePublicKey(asPem.body.toString(), 'served').id, keyId);
    });
  });

  describe('when a namespace did not opt in', () => {
    it('records nothing for it, nor for a dry run; a pod annotation or the /public webhook path opts in', async () => {
      const pod = (namespace: string, extra: Partial<Parameters<typeof podReview>[0]> = {}) =>
        podReview({ namespace, containers: [['web', ref('web', web)]], ...extra });
      assert.equal((await s.admit(await pod('private'))).allowed, true);
      assert.equal((await s.admit(await pod('shop-dry', { dryRun: true }))).allowed, true);
      assert.equal((await envelopeOf('private')).status, 404);
      assert.equal((await envelopeOf('shop-dry')).status, 404);
      assert.equal((await envelopeOf('no-such-namespace')).status, 404, 'unknown and private look alike');
      const annotated = await pod('labs', { annotations: { 'vouch.dev/public-verification': 'true' } });
      assert.equal((await s.admit(annotated)).allowed, true);
      assert.deepEqual(
        (await listed('labs')).images.map((i) => i.container),
        ['web'],
      );
      assert.equal((await s.admit(await pod('team'), '/admission/validate/public')).allowed, true);
      assert.equal((await listed('team')).images.length, 1);
      // a pod in an opted-in namespace may opt out
      const optOut = await pod('shop-db', {
        annotations: { 'vouch.dev/public-verification': 'false' },
        containers: [['solo', ref('worker', worker)]],
      });
      assert.equal((await s.admit(optOut)).allowed, true);
      assert.ok(!(await listed('shop-db')).images.some((i) => i.container === 'solo'));
    });

    it('never lists a denied pod', async () => {
      const unsigned = await s.images.push('rogue', 'v1', false);
      const review = await podReview({
        namespace: 'shop',
        containers: [['rogue', `${s.registry.host}/rogue@${unsigned.digest}`]],
      });
      assert.equal((await s.admit(review)).allowed, false);
      assert.ok(!(await listed('shop')).images.some((i) => i.container === 'rogue'));
    });
  });

  describe('when anything but GET or HEAD arrives at the public listener', () => {
    it('answers 405 with Allow: GET, HEAD; HEAD is answered without a body; security headers are set', async () => {
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
        const res = await s.get(
          `${s.publicUrl}/v1/applications/shop`,
          { 'content-type': 'application/json' },
          method,
        );
        assert.equal(res.status, 405, method);
        assert.equal(res.headers.allow, 'GET, HEAD');
      }
      const head = await s.get(`${s.publicUrl}/v1/applications/shop`, {}, 'HEAD');
      assert.equal(head.status, 200);
      assert.equal(head.body.length, 0);
      assert.match(String(head.headers['content-security-policy']), /default-src 'none'/);
      assert.equal(head.headers['x-content-type-options'], 'nosniff');
      // the webhook routes are not on the public listener
      const admission = await s.get(`${s.publicUrl}/admission/validate`);
      assert.equal(admission.status, 404);
    });
  });

  describe('when a reader runs vouch verify URL', () => {
    const trust = () => ['--insecure-registry', s.registry.host, '--key', s.images.publicKeyFile];

    it('re-verifies every listed image under its own policy: exit 0, one VERIFIED line per image', async () => {
      const run = await vouchCli(
        'verify',
        `${s.publicUrl}/v1/applications/shop`,
        '--public-key',
        s.vouchPub,
        ...trust(),
      );
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.match(run.stdout, new RegExp(`VERIFIED +web +${ref('web', web).replaceAll('.', '\\.')}`));
      assert.match(
        run.stdout,
        new RegExp(`VERIFIED +worker +${ref('worker', worker).replaceAll('.', '\\.')}`),
      );
      assert.match(run.stdout, /2 of 2 image\(s\) verified/);
      const json = await vouchCli(
        'verify',
        `${s.publicUrl}/v1/applications/shop`,
        '--public-key',
        s.vouchPub,
        '-o',
        'json',
        ...trust(),
      );
      const doc = JSON.parse(json.stdout) as {
        verified: boolean;
        images: Array<{ result: string; decision: { digest: string } }>;
      };
      assert.equal(doc.verified, true);
      assert.deepEqual(
        doc.images.map((i) => i.result),
        ['verified', 'verified'],
      );
    });

    it('takes nothing on the server’s word: under a policy trusting another key every image is denied (exit 1)', async () => {
      const run = await vouchCli(
        'verify',
        `${s.publicUrl}/v1/applications/shop`,
        '--public-key',
        s.vouchPub,
        '--insecure-registry',
        s.registry.host,
        '--key',
        s.vouchPub,
      );
      assert.equal(run.code, 1, run.stdout + run.stderr);
      assert.equal((run.stdout.match(/^DENIED/gm) ?? []).length, 2);
    });

    it('refuses a list signed by another key, a tampered list, another namespace’s list and one older than --max-age, before verifying any image; follows no redirect and reads at most 4 MiB', async () => {
      const wrongKey = await vouchCli(
        'verify',
        `${s.publicUrl}/v1/applications/shop`,
        '--public-key',
        s.images.publicKeyFile,
        ...trust(),
      );
      assert.equal(wrongKey.code, 1);
      assert.match(wrongKey.stdout, /REFUSED[\s\S]*envelope-signature-invalid/);
      // a man in the middle swaps a listed digest for the unsigned image's, keeping the signature
      const genuine = (await envelopeOf('shop')).body.toString();
      const env = JSON.parse(genuine) as { payload: string };
      const unsigned = await s.images.push('web', 'evil', false);
      const payload = Buffer.from(env.payload, 'base64').toString().replaceAll(web.digest, unsigned.digest);
      const tampered = JSON.stringify({ ...env, payload: Buffer.from(payload).toString('base64') });
      // a proxy serving the tampered list, and the genuine one under another namespace's URL
      // (and, to check the reader's bounds, a redirect to the real list and an endless body)
      const proxy: Server = createServer((req, res) => {
        if (req.url === '/v1/applications/moved') {
          res.writeHead(302, { location: `${s.publicUrl}/v1/applications/shop` }).end();
          return;
        }
        if (req.url === '/v1/applications/huge') {
          res.writeHead(200, { 'content-type': 'application/json' });
          const chunk = Buffer.alloc(64 * 1024, 0x20);
          const pump = () => {
            while (res.write(chunk)) if (res.destroyed) return;
            res.once('drain', pump);
          };
          res.on('error', () => {});
          pump();
          return;
        }
        res
          .writeHead(200, { 'content-type': 'application/vnd.dsse.envelope.v1+json' })
          .end(req.url === '/v1/applications/shop' ? tampered : genuine);
      });
      await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
      try {
        const port = (proxy.address() as { port: number }).port;
        const run = await vouchCli(
          'verify',
          `http://127.0.0.1:${port}/v1/applications/shop`,
          '--public-key',
          s.vouchPub,
          ...trust(),
        );
        assert.equal(run.code, 1, run.stdout + run.stderr);
        assert.match(run.stdout, /REFUSED[\s\S]*envelope-signature-invalid/);
        assert.doesNotMatch(run.stdout, /VERIFIED|DENIED/);
        const moved = await vouchCli(
          'verify',
          `http://127.0.0.1:${port}/v1/applications/other`,
          '--public-key',
          s.vouchPub,
          ...trust(),
        );
        assert.equal(moved.code, 1, moved.stdout + moved.stderr);
        assert.match(moved.stdout, /namespace-mismatch: the list is for namespace shop, not other/);
        const redirected = await vouchCli(
          'verify',
          `http://127.0.0.1:${port}/v1/applications/moved`,
          '--public-key',
          s.vouchPub,
          ...trust(),
        );
        assert.equal(redirected.code, 3, redirected.stderr);
        assert.match(redirected.stderr, /HTTP 302/);
        const huge = await vouchCli(
          'verify',
          `http://127.0.0.1:${port}/v1/applications/huge`,
          '--public-key',
          s.vouchPub,
          ...trust(),
        );
        assert.equal(huge.code, 3, huge.stderr);
        assert.match(huge.stderr, /more than 4194304 bytes/);
      } finally {
        await new Promise<void>((r) => proxy.close(() => r()));
      }
      // an old list (replayed) is refused under --max-age; a fresh one is accepted
      const old = await vouchCli(
        'verify',
        `${s.publicUrl}/v1/applications/shop`,
        '--public-key',
        s.vouchPub,
        '--max-age',
        '1ms',
        ...trust(),
      );
      assert.equal(old.code, 1);
      assert.match(old.stdout, /list-too-old/);
      const fresh = await vouchCli(
        'verify',
        `${s.publicUrl}/v1/applications/shop`,
        '--public-key',
        s.vouchPub,
        '--max-age',
        '1h',
        ...trust(),
      );
      assert.equal(fresh.code, 0, fresh.stdout + fresh.stderr);
    });

    it('fails the image whose signature was deleted from the registry after admission, although the server lists it', async () => {
      const before = await listed('shop-db');
      assert.ok(before.images.some((i) => i.digest === db.digest));
      // the cosign signature lives at the tag sha256-<hex>.sig: delete its manifest
      const tag = `${db.digest.replace(':', '-')}.sig`;
      const head = await request(`http://${s.registry.host}/v2/db/manifests/${tag}`, {
        method: 'HEAD',
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      await head.body.dump();
      const sigDigest = String(head.headers['docker-content-digest']);
      assert.match(sigDigest, /^sha256:/);
      const del = await request(`http://${s.registry.host}/v2/db/manifests/${sigDigest}`, {
        method: 'DELETE',
      });
      await del.body.dump();
      assert.equal(del.statusCode, 202);
      assert.ok(
        (await listed('shop-db')).images.some((i) => i.digest === db.digest),
        'still listed',
      );
      const run = await vouchCli(
        'verify',
        `${s.publicUrl}/v1/applications/shop-db`,
        '--public-key',
        s.vouchPub,
        ...trust(),
      );
      assert.equal(run.code, 1, run.stdout + run.stderr);
      assert.match(run.stdout, new RegExp(`DENIED +db +${ref('db', db).replaceAll('.', '\\.')}`));
      assert.match(run.stdout, new RegExp(`VERIFIED +web +${ref('web', web).replaceAll('.', '\\.')}`));
      assert.match(run.stdout, /1 of 2 image\(s\) verified/);
    });

    it('without --public-key checks the list with the key the server serves and says so; 404 and bad URLs are errors', async () => {
      const run = await vouchCli('verify', `${s.publicUrl}/v1/applications/shop`, ...trust());
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.match(run.stderr, /no --public-key/);
      assert.match(run.stdout, /not independently trusted/);
      const missing = await vouchCli(
        'verify',
        `${s.publicUrl}/v1/applications/private`,
        '--public-key',
        s.vouchPub,
        ...trust(),
      );
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /nothing is published there/);
      const bad = await vouchCli('verify', `${s.publicUrl}/v2/other`, '--public-key', s.vouchPub);
      assert.equal(bad.code, 2);
      const mixed = await vouchCli(
        'verify',
        `${s.publicUrl}/v1/applications/shop`,
        '--signature-path',
        s.vouchPub,
      );
      assert.equal(mixed.code, 2);
      assert.match(mixed.stderr, /--signature-path goes with an image/);
    });
  });
});
