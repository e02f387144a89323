/**
 * SLSA provenance conditions on a real GitHub Actions provenance: the SLSA v1 predicate of the
 * sigstore-js 2.0.0 npm release bundle (a GitHub-built sigstore bundle, the same shape as GitHub
 * artifact attestations), read in place from ../shared/interop (never copied). The bundle path
 * itself (signature, Rekor, certificate) is covered by the interop runner's sigstore-bundle cases.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { checkProvenance, provenanceFacts, SLSA_V1 } from '../../../src/verifiers/cosign/provenance.js';

const BUNDLE = path.resolve(
  import.meta.dirname,
  '../../../../shared/interop/cosign/sigstore-go/pkg/testing/data/bundles/sigstore.js@2.0.0-provenance.sigstore.json',
);
const present = existsSync(BUNDLE);

describe('SLSA provenance of a real GitHub Actions build', {
  skip: present ? false : `${BUNDLE} is absent (no ../shared beside the checkout)`,
}, () => {
  const statement = () => {
    const bundle = JSON.parse(readFileSync(BUNDLE, 'utf8')) as { dsseEnvelope: { payload: string } };
    return JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')) as {
      predicateType: string;
      predicate: unknown;
    };
  };

  it('reads builder, repository, ref and build type from the v1 predicate', () => {
    const s = statement();
    assert.equal(s.predicateType, SLSA_V1);
    assert.deepEqual(provenanceFacts(s.predicateType, s.predicate), {
      builderId: 'https://github.com/actions/runner/github-hosted',
      buildType: 'https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1',
      sourceRepository: 'https://github.com/sigstore/sigstore-js',
      sourceRef: 'refs/heads/main',
    });
  });

  it('holds for the expected builder and source, and names each mismatch', () => {
    const s = statement();
    const expected = {
      builderId: 'https://github.com/actions/runner/github-hosted',
      sourceRepository: 'github.com/sigstore/sigstore-js',
      sourceRef: 'refs/heads/main',
      buildType: 'https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1',
    };
    checkProvenance(s.predicateType, s.predicate, expected);
    const mismatch = (change: Partial<typeof expected>) => {
      try {
        checkProvenance(s.predicateType, s.predicate, { ...expected, ...change });
        return 'ok';
      } catch (err) {
        return (err as { reason?: string }).reason;
      }
    };
    assert.equal(
      mismatch({ builderId: 'https://github.com/slsa-framework/slsa-github-generator' }),
      'builder-mismatch',
    );
    assert.equal(mismatch({ sourceRepository: 'https://github.com/evil/sigstore-js' }), 'source-mismatch');
    assert.equal(mismatch({ sourceRef: 'refs/tags/v2.0.0' }), 'ref-mismatch');
    assert.equal(mismatch({ buildType: 'https://example.com/other' }), 'build-type-mismatch');
  });
});
