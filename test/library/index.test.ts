/** The library entry point: a whole decision through `import … from 'vouch'` alone. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { buildRuntime, composeConfig, isVouchError, parseAnyReference } from '../../src/index.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe("import { … } from 'vouch'", () => {
  it('decides on the example images: the signed one is allowed, the unsigned one denied', async () => {
    const loaded = await composeConfig({ flags: { notationDir: path.join(ROOT, 'examples/notation') } });
    const runtime = await buildRuntime(loaded.config, { baseDir: ROOT });
    try {
      const layout = path.join(ROOT, 'examples/layout');
      const signed = await runtime.engine.decide(`oci:${layout}:app`, {
        signal: AbortSignal.timeout(10_000),
      });
      assert.equal(signed.allowed, true, signed.why.join('; '));
      assert.equal(signed.reports.find((r) => r.verifier === 'notation')?.outcome, 'verified');
      const unsigned = await runtime.engine.decide(`oci:${layout}:base`, {
        signal: AbortSignal.timeout(10_000),
      });
      assert.equal(unsigned.allowed, false);
    } finally {
      await runtime.close();
    }
  });

  it('parses references and throws VouchError with a stable code for bad ones', () => {
    assert.deepEqual(parseAnyReference('alpine:3'), {
      registry: 'docker.io',
      repository: 'library/alpine',
      tag: '3',
    });
    assert.throws(
      () => parseAnyReference('docker.io/Acme/app'),
      (err: unknown) => isVouchError(err, 'REFERENCE_INVALID'),
    );
  });
});
