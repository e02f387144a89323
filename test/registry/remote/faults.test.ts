/**
 * Registry faults the real registry cannot produce, against the fault server
 * (test/helpers/fault-server.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isVouchError, type VouchErrorCode } from '../../../src/errors.js';
import { computeDigest } from '../../../src/reference/digest.js';
import { parseReference } from '../../../src/reference/parse.js';
import { StaticCredentialStore } from '../../../src/registry/auth/index.js';
import {
  type RegistryRequestEvent,
  RemoteRegistry,
  type RemoteRegistryOptions,
} from '../../../src/registry/remote/index.js';
import { MAX_MANIFEST_BYTES, MediaType } from '../../../src/registry/types.js';
import { type FaultServer, sendJson, startFaultServer } from '../../helpers/fault-server.js';
import { buildTestImage } from '../../helpers/images.js';

const image = buildTestImage('faults');
const manifestBody = Buffer.from(image.manifestBytes);
const manifestDigest = image.manifest.digest;

function rejectsWith(code: VouchErrorCode, message: RegExp) {
  return (err: unknown) => {
    assert.ok(isVouchError(err, code), `expected ${code}, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  };
}

describe('remote registry against a fault server', () => {
  let fault: FaultServer;
  let other: FaultServer;
  const clients: RemoteRegistry[] = [];
  const events: RegistryRequestEvent[] = [];

  function repo(options: RemoteRegistryOptions = {}, name = 'app') {
    const client = new RemoteRegistry({
      insecureHosts: [fault.host, other.host],
      onRequest: (e) => events.push(e),
      ...options,
    });
    clients.push(client);
    return client.repository(parseReference(`${fault.host}/${name}`));
  }

  before(async () => {
    fault = await startFaultServer();
    other = await startFaultServer();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await fault.stop();
    await other.stop();
  });

  function reset(): void {
    fault.requests.length = 0;
    other.requests.length = 0;
    events.length = 0;
  }

  it('rejects a manifest whose body does not match the requested digest', async () => {
    reset();
    const wrong = Buffer.from(
      JSON.stringify({ ...JSON.parse(manifestBody.toString()), annotations: { x: 'tampered' } }),
    );
    fault.handle((_req, res) =>
      sendJson(res, 200, wrong.toString(), { 'content-type': MediaType.OciManifest }),
    );
    await assert.rejects(
      repo().fetchManifest(manifestDigest),
      rejectsWith('CONTENT_DIGEST_MISMATCH', /has digest sha256:.*expected sha256:/),
    );
  });

  it('rejects a manifest fetched by tag whose body does not match Docker-Content-Digest', async () => {
    reset();
    fault.handle((_req, res) =>
      sendJson(res, 200, manifestBody.toString(), {
        'content-type': MediaType.OciManifest,
        'docker-content-digest': computeDigest(Buffer.from('something else')),
      }),
    );
    await assert.rejects(repo().fetchManifest('v1'), rejectsWith('CONTENT_DIGEST_MISMATCH', /tag "v1"/));
  });

  it('computes the digest itself when a tag answer has no Docker-Content-Digest', async () => {
    reset();
    fault.handle((_req, res) =>
      sendJson(res, 200, manifestBody.toString(), { 'content-type': MediaType.OciManifest }),
    );
    const fetched = await repo().fetchManifest('v1');
    assert.equal(fetched.descriptor.digest, manifestDigest);
  });

  it('rejects a blob with the wrong content and a truncated blob', async () => {
    reset();
    const blob = image.blobs[1];
    assert.ok(blob);
    fault.handle((_req, res) => {
      res.writeHead(200, { 'content-length': String(blob.bytes.byteLength) });
      res.end(Buffer.alloc(blob.bytes.byteLength, 0x41));
    });
    await assert.rejects(
      repo().fetchBlob(blob.descriptor, { maxBytes: 1024 }),
      rejectsWith('CONTENT_DIGEST_MISMATCH', /blob sha256:/),
    );
    fault.handle((_req, res) => {
      res.writeHead(200, { 'content-length': String(blob.bytes.byteLength) });
      res.write(blob.bytes.subarray(0, 5));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    await assert.rejects(
      repo().fetchBlob(blob.descriptor, { maxBytes: 1024 }),
      rejectsWith('CONTENT_TRUNCATED', /ended early/),
    );
  });

  it('stops reading an oversize manifest while streaming', async () => {
    reset();
    let written = 0;
    fault.handle((_req, res) => {
      res.writeHead(200, { 'content-type': MediaType.OciManifest }); // chunked, no Content-Length
      const chunk = Buffer.alloc(256 * 1024, 0x20);
      const pump = () => {
        while (written < 64 * 1024 * 1024 && !res.destroyed) {
          written += chunk.byteLength;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      res.on('close', () => {});
      pump();
    });
    await assert.rejects(
      repo().fetchManifest('big'),
      rejectsWith('CONTENT_TOO_LARGE', /limit of 4194304 bytes while streaming/),
    );
    assert.ok(written < 32 * 1024 * 1024, `server wrote ${written} bytes before the client stopped`);
    fault.handle((_req, res) => {
      res.writeHead(200, {
        'content-type': MediaType.OciManifest,
        'content-length': String(MAX_MANIFEST_BYTES + 1),
      });
      res.end();
    });
    await assert.rejects(
      repo().fetchManifest('big'),
      rejectsWith('CONTENT_TOO_LARGE', /4194305 bytes, more than the limit/),
    );
  });

  it('gives up on a slow drip when the deadline passes', async () => {
    reset();
    fault.handle((_req, res) => {
      res.writeHead(200, {
        'content-type': MediaType.OciManifest,
        'content-length': String(manifestBody.byteLength),
      });
      let i = 0;
      const timer = setInterval(() => {
        if (res.destroyed || i >= manifestBody.byteLength) return clearInterval(timer);
        res.write(manifestBody.subarray(i, i + 1));
        i++;
      }, 50);
    });
    const started = Date.now();
    await assert.rejects(
      repo().fetchManifest(manifestDigest, { signal: AbortSignal.timeout(300) }),
      rejectsWith('DEADLINE_EXCEEDED', /deadline passed/),
    );
    assert.ok(Date.now() - started < 2000);
  });

  it('retries 429 after Retry-After, then succeeds', async () => {
    reset();
    fault.handle((_req, res, seen) => {
      if (seen.length === 1) {
        sendJson(
          res,
          429,
          { errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] },
          { 'retry-after': '1' },
        );
      } else {
        sendJson(res, 200, manifestBody.toString(), { 'content-type': MediaType.OciManifest });
      }
    });
    const started = Date.now();
    const fetched = await repo().fetchManifest(manifestDigest);
    assert.equal(fetched.descriptor.digest, manifestDigest);
    assert.equal(fault.requests.length, 2);
    assert.ok(Date.now() - started >= 950, 'waited for Retry-After');
    assert.deepEqual(
      events.map((e) => [e.status, e.attempt]),
      [
        [429, 1],
        [200, 2],
      ],
    );
  });

  it('reports rate limiting after the retries, and at once for a Retry-After beyond the cap', async () => {
    reset();
    fault.handle((_req, res) =>
      sendJson(
        res,
        429,
        { errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] },
        { 'retry-after': '0' },
      ),
    );
    await assert.rejects(
      repo({ maxRetries: 2 }).resolve('v1'),
      rejectsWith('REGISTRY_RATE_LIMITED', /gave up after 2 retries/),
    );
    assert.equal(fault.requests.length, 3);
    reset();
    fault.handle((_req, res) => sendJson(res, 429, {}, { 'retry-after': '3600' }));
    await assert.rejects(repo().resolve('v1'), rejectsWith('REGISTRY_RATE_LIMITED', /retry after 3600 s/));
    assert.equal(fault.requests.length, 1);
  });

  it('retries 503 and connection resets, but not 404', async () => {
    reset();
    fault.handle((req, res, seen) => {
      if (seen.length === 1) return void res.writeHead(503).end();
      if (seen.length === 2) return void req.socket.destroy();
      sendJson(res, 200, manifestBody.toString(), { 'content-type': MediaType.OciManifest });
    });
    assert.equal((await repo().fetchManifest(manifestDigest)).descriptor.digest, manifestDigest);
    assert.equal(fault.requests.length, 3);
    reset();
    fault.handle((_req, res) =>
      sendJson(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }),
    );
    await assert.rejects(
      repo().fetchManifest('gone'),
      rejectsWith('REGISTRY_NOT_FOUND', /MANIFEST_UNKNOWN: manifest unknown/),
    );
    assert.equal(fault.requests.length, 1);
  });

  it('refuses a manifest redirected to another host', async () => {
    reset();
    fault.handle(
      (_req, res) => void res.writeHead(307, { location: `http://${other.host}/elsewhere` }).end(),
    );
    await assert.rejects(
      repo().fetchManifest(manifestDigest),
      rejectsWith('REGISTRY_REDIRECT_REFUSED', /to another host/),
    );
    assert.equal(other.requests.length, 0);
  });

  it('follows a blob redirect to another host without the Authorization header', async () => {
    reset();
    const blob = image.blobs[1];
    assert.ok(blob);
    fault.handle((req, res) => {
      if (!req.headers.authorization) {
        return void res.writeHead(401, { 'www-authenticate': 'Basic realm="fault"' }).end();
      }
      res.writeHead(307, { location: `http://${other.host}/storage/blob?sig=x` }).end();
    });
    other.handle(
      (_req, res) =>
        void res.writeHead(200, { 'content-length': String(blob.bytes.byteLength) }).end(blob.bytes),
    );
    const credentials = new StaticCredentialStore({ [fault.host]: { username: 'u', password: 'secret' } });
    const bytes = await repo({ credentials }).fetchBlob(blob.descriptor, { maxBytes: 1024 });
    assert.deepEqual(Buffer.from(bytes), Buffer.from(blob.bytes));
    assert.equal(other.requests.length, 1);
    assert.equal(other.requests[0]?.headers.authorization, undefined);
    assert.match(String(fault.requests[1]?.headers.authorization), /^Basic /);
  });

  it('turns a non-JSON error body into a specific message', async () => {
    reset();
    fault.handle(
      (_req, res) =>
        void res.writeHead(500, { 'content-type': 'text/html' }).end('<html><b>Bad gateway\x00</b></html>'),
    );
    await assert.rejects(
      repo({ maxRetries: 0 }).fetchManifest(manifestDigest),
      rejectsWith(
        'REGISTRY_ERROR',
        /HTTP 500: non-JSON error body \(text\/html\): <html><b>Bad gateway <\/b><\/html>/,
      ),
    );
  });

  it('refuses Docker schema 1 by media type and by body', async () => {
    reset();
    fault.handle((_req, res) =>
      sendJson(
        res,
        200,
        { schemaVersion: 1, name: 'app', tag: 'v1', fsLayers: [] },
        { 'content-type': MediaType.DockerSchema1Signed },
      ),
    );
    await assert.rejects(repo().resolve('v1'), rejectsWith('MANIFEST_UNSUPPORTED', /Docker schema 1/));
    fault.handle((_req, res) =>
      sendJson(res, 200, { schemaVersion: 1, name: 'app', tag: 'v1', fsLayers: [] }),
    );
    await assert.rejects(repo().fetchManifest('v1'), rejectsWith('MANIFEST_UNSUPPORTED', /Docker schema 1/));
  });

  it('falls back to GET when HEAD is not supported', async () => {
    reset();
    fault.handle((req, res) => {
      if (req.method === 'HEAD') return void res.writeHead(405).end();
      sendJson(res, 200, manifestBody.toString(), {
        'content-type': MediaType.OciManifest,
        'docker-content-digest': manifestDigest,
      });
    });
    const d = await repo().resolve('v1');
    assert.equal(d.digest, manifestDigest);
    assert.deepEqual(
      fault.requests.map((r) => r.method),
      ['HEAD', 'GET'],
    );
  });

  it('reports an unreachable registry', async () => {
    const client = new RemoteRegistry({ insecureHosts: ['127.0.0.1:1'] });
    clients.push(client);
    await assert.rejects(
      client.repository(parseReference('127.0.0.1:1/app')).resolve('v1'),
      rejectsWith('REGISTRY_UNREACHABLE', /cannot reach 127\.0\.0\.1:1 .*ECONNREFUSED/),
    );
  });

  it('keeps to the per-host concurrency limit', async () => {
    reset();
    let inFlight = 0;
    let peak = 0;
    fault.handle((_req, res) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      setTimeout(() => {
        inFlight--;
        sendJson(res, 200, manifestBody.toString(), { 'content-type': MediaType.OciManifest });
      }, 30);
    });
    const r = repo({ perHostConcurrency: 2 });
    await Promise.all(Array.from({ length: 8 }, () => r.fetchManifest(manifestDigest)));
    assert.equal(fault.requests.length, 8);
    assert.equal(peak, 2);
  });
});
