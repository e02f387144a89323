/**
 * Egress from the registry client (docs/security.md, egress table): a token realm or a redirect the
 * registry names on another host was learned from the registry's answers, so loopback, private and
 * link-local targets are refused unless `allowPrivateNetwork`; the registry's own host and the
 * configured insecure hosts stay trusted. Real servers on loopback: the fault server as registry and
 * storage (test/helpers/fault-server.ts) and the token issuer (test/helpers/token-issuer.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isVouchError } from '../../src/errors.js';
import { parseReference } from '../../src/reference/parse.js';
import { RemoteRegistry, type RemoteRegistryOptions } from '../../src/registry/remote/index.js';
import { MediaType } from '../../src/registry/types.js';
import { type FaultServer, sendJson, startFaultServer } from '../helpers/fault-server.js';
import { buildTestImage } from '../helpers/images.js';
import { startTokenIssuer, type TokenIssuer } from '../helpers/token-issuer.js';

const image = buildTestImage('egress');
const manifestBody = Buffer.from(image.manifestBytes);
const blob = image.blobs[1] as (typeof image.blobs)[number];

describe('registry egress to learned targets', () => {
  let registry: FaultServer;
  let storage: FaultServer;
  let issuer: TokenIssuer;
  const clients: RemoteRegistry[] = [];

  before(async () => {
    [registry, storage, issuer] = await Promise.all([
      startFaultServer(),
      startFaultServer(),
      startTokenIssuer(),
    ]);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all([registry.stop(), storage.stop(), issuer.stop()]);
  });

  /** A client for `registry` (configured insecure, as a user would), with `options` on top. */
  function repo(options: RemoteRegistryOptions = {}) {
    const client = new RemoteRegistry({ insecureHosts: [registry.host], maxRetries: 0, ...options });
    clients.push(client);
    return client.repository(parseReference(`${registry.host}/app`));
  }

  const issuerPort = () => new URL(issuer.realm).port;

  /** The registry asks for a bearer token from `realm` and serves the manifest to any bearer. */
  function challengeWith(realm: string): void {
    registry.handle((req, res) => {
      if (!req.headers.authorization?.startsWith('Bearer ')) {
        return void res
          .writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="${issuer.service}"` })
          .end();
      }
      sendJson(res, 200, manifestBody.toString(), { 'content-type': MediaType.OciManifest });
    });
  }

  function reset(): void {
    registry.requests.length = 0;
    storage.requests.length = 0;
    issuer.requests.length = 0;
  }

  describe('when the token realm is on another host than the registry', () => {
    for (const realmHost of ['localhost', '127.0.0.2', '[::ffff:127.0.0.1]']) {
      it(`refuses a realm on ${realmHost} (loopback) by default, before any request to it`, async () => {
        reset();
        challengeWith(`http://${realmHost}:${issuerPort()}/token`);
        await assert.rejects(repo().fetchManifest(image.manifest.digest), (err: unknown) => {
          assert.ok(isVouchError(err, 'EGRESS_REFUSED'), `expected EGRESS_REFUSED, got ${String(err)}`);
          assert.match(err.message, /the token realm .* names/);
          return true;
        });
        assert.equal(issuer.requests.length, 0, 'the token issuer was not contacted');
      });
    }

    it('follows it with allowPrivateNetwork', async () => {
      reset();
      challengeWith(`http://localhost:${issuerPort()}/token`);
      const manifest = await repo({ allowPrivateNetwork: true }).fetchManifest(image.manifest.digest);
      assert.equal(manifest.descriptor.digest, image.manifest.digest);
      assert.equal(issuer.requests.length, 1, 'the token came from the realm');
    });

    it('trusts a realm on the host the user configured (the same host name, another port)', async () => {
      reset();
      challengeWith(issuer.realm);
      assert.equal(new URL(issuer.realm).hostname, new URL(`http://${registry.host}`).hostname);
      const manifest = await repo().fetchManifest(image.manifest.digest);
      assert.equal(manifest.descriptor.digest, image.manifest.digest);
      assert.equal(issuer.requests.length, 1);
    });
  });

  describe('when a blob download is redirected to another host', () => {
    function redirectTo(location: string): void {
      registry.handle((_req, res) => void res.writeHead(307, { location }).end());
      storage.handle(
        (_req, res) =>
          void res.writeHead(200, { 'content-length': String(blob.bytes.byteLength) }).end(blob.bytes),
      );
    }
    const storagePort = () => storage.host.split(':')[1];

    for (const target of [
      'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
      'http://[fe80::1]/blob',
      'http://10.0.0.1/blob',
      'http://192.168.0.10/blob',
      'http://[fc00::1]/blob',
    ]) {
      it(`refuses ${target} (link-local or private)`, async () => {
        reset();
        redirectTo(target);
        await assert.rejects(repo().fetchBlob(blob.descriptor, { maxBytes: 1024 }), (err: unknown) => {
          assert.ok(isVouchError(err, 'EGRESS_REFUSED'), `expected EGRESS_REFUSED, got ${String(err)}`);
          assert.match(err.message, /redirected blob .* (link-local|private) address/);
          return true;
        });
      });
    }

    for (const host of ['localhost', '[::ffff:127.0.0.1]', '127.0.0.2']) {
      it(`refuses a loopback target (${host}) and does not contact it`, async () => {
        reset();
        redirectTo(`http://${host}:${storagePort()}/storage/blob`);
        await assert.rejects(repo().fetchBlob(blob.descriptor, { maxBytes: 1024 }), (err: unknown) =>
          isVouchError(err, 'EGRESS_REFUSED'),
        );
        assert.equal(registry.requests.length, 1, 'the registry was asked');
        assert.equal(storage.requests.length, 0, 'the redirect target was not contacted');
      });
    }

    it('follows a loopback target with allowPrivateNetwork', async () => {
      reset();
      redirectTo(`http://localhost:${storagePort()}/storage/blob`);
      const bytes = await repo({ allowPrivateNetwork: true }).fetchBlob(blob.descriptor, { maxBytes: 1024 });
      assert.deepEqual(Buffer.from(bytes), Buffer.from(blob.bytes));
      assert.equal(storage.requests.length, 1);
    });

    it('trusts a target the user configured as an insecure host, and only that', async () => {
      reset();
      // the registry under another name (localhost), so the storage host (127.0.0.1) is another host
      const port = registry.host.split(':')[1];
      const ref = parseReference(`localhost:${port}/app`);
      redirectTo(`http://${storage.host}/storage/blob`);
      const refusing = new RemoteRegistry({ insecureHosts: [`localhost:${port}`], maxRetries: 0 });
      const trusting = new RemoteRegistry({
        insecureHosts: [`localhost:${port}`, storage.host],
        maxRetries: 0,
      });
      clients.push(refusing, trusting);
      await assert.rejects(
        refusing.repository(ref).fetchBlob(blob.descriptor, { maxBytes: 1024 }),
        (err: unknown) => isVouchError(err, 'EGRESS_REFUSED'),
      );
      assert.equal(storage.requests.length, 0);
      const bytes = await trusting.repository(ref).fetchBlob(blob.descriptor, { maxBytes: 1024 });
      assert.deepEqual(Buffer.from(bytes), Buffer.from(blob.bytes));
      assert.equal(storage.requests.length, 1);
    });
  });
});
