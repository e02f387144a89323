/**
 * TLS: a registry with a private CA is trusted only when its CA file is configured (system CAs
 * plus caFiles). The server is a minimal HTTPS fault server answering one manifest.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { isVouchError } from '../../../src/errors.js';
import { parseReference } from '../../../src/reference/parse.js';
import { RemoteRegistry } from '../../../src/registry/remote/index.js';
import { MediaType } from '../../../src/registry/types.js';
import { buildTestImage } from '../../helpers/images.js';

const image = buildTestImage('tls');

describe('TLS with configured CA files (HTTPS fault server)', () => {
  let dir: string;
  let server: Server;
  let host: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vouch-tls-'));
    await promisify(execFile)(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1']
        .concat([
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
          '-subj',
          '/CN=vouch test registry',
        ])
        .concat(['-addext', 'subjectAltName=IP:127.0.0.1']),
      { timeout: 10_000 },
    );
    server = createServer(
      { key: await readFile(join(dir, 'key.pem')), cert: await readFile(join(dir, 'cert.pem')) },
      (_req, res) => {
        res.writeHead(200, {
          'content-type': MediaType.OciManifest,
          'docker-content-digest': image.manifest.digest,
          'content-length': String(image.manifest.size),
        });
        res.end(image.manifestBytes);
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  it('trusts the registry when its CA file is configured', async () => {
    const client = new RemoteRegistry({ caFiles: [join(dir, 'cert.pem')] });
    try {
      const d = await client.repository(parseReference(`${host}/app`)).resolve('v1');
      assert.equal(d.digest, image.manifest.digest);
    } finally {
      await client.close();
    }
  });

  it('refuses it with the system CAs alone, and never falls back to plain HTTP', async () => {
    const client = new RemoteRegistry({});
    try {
      await assert.rejects(client.repository(parseReference(`${host}/app`)).resolve('v1'), (err: unknown) => {
        assert.ok(isVouchError(err, 'REGISTRY_UNREACHABLE'), String(err));
        assert.match(err.message, /cannot reach 127\.0\.0\.1:\d+ .*(certificate|self.signed)/i);
        return true;
      });
    } finally {
      await client.close();
    }
  });

  it('names an unreadable CA file', () => {
    assert.throws(
      () => new RemoteRegistry({ caFiles: [join(dir, 'missing.pem')] }),
      /cannot read CA file .*missing\.pem/,
    );
  });
});
