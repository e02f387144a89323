import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/observability/logger.js';
import { isTlsChange, readTlsMaterial, watchTls } from '../../src/server/tls.js';
import { createPki } from './harness.js';

describe('TLS file watching', () => {
  it('reacts to the TLS files and Kubernetes ..data swaps, not to other files in their folder', () => {
    const names = new Set(['tls.crt', 'tls.key', 'ca.crt']);
    assert.equal(isTlsChange('tls.crt', names), true);
    assert.equal(isTlsChange('ca.crt', names), true);
    assert.equal(isTlsChange('..data', names), true);
    assert.equal(isTlsChange('..2026_01_01_00_00_00.123', names), true);
    assert.equal(isTlsChange(null, names), true);
    assert.equal(isTlsChange('count', names), false);
    assert.equal(isTlsChange('count.tmp', names), false);
  });

  it('does not reload when another file in the folder changes many times', async () => {
    const pki = await createPki();
    const server = await pki.leaf('watch-server');
    const files = { certFile: server.cert, keyFile: server.key };
    const initial = await readTlsMaterial(files);
    let applied = 0;
    let reads = 0;
    const watcher = watchTls({
      files,
      initial,
      pollMs: 60_000,
      logger: silentLogger,
      apply: () => {
        applied++;
      },
      read: (f, known) => {
        reads++;
        return readTlsMaterial(f, known);
      },
    });
    try {
      // a neighbour rewritten constantly (the acceptance check's proxy writes its count file there)
      const neighbour = path.join(path.dirname(server.cert), 'count');
      for (let i = 0; i < 50; i++) await writeFile(neighbour, String(i));
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(applied, 0);
      assert.equal(reads, 0, `TLS files read ${reads} times`);
      // a change to the certificate itself is seen
      await writeFile(server.cert, await readFile(server.cert));
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(reads >= 1, 'the certificate file changed but was not re-read');
      // the unchanged material is recognised without building a context again
      assert.equal(await readTlsMaterial(files, initial), initial);
      assert.equal(await watcher.reload(), false);
    } finally {
      watcher.close();
      await rm(pki.dir, { recursive: true, force: true });
    }
  });
});
