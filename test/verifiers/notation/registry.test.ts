/**
 * End to end on a real registry (Debian docker-registry): sign images with JWS and COSE through
 * signNotation (attached as referrers), then verify them through the notation Verifier.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMemoryCache } from '../../../src/cache/memory.js';
import { verifyArtifact } from '../../../src/engine/run.js';
import type { Artifact, Subject } from '../../../src/engine/types.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { parseReference } from '../../../src/reference/parse.js';
import { createRegistryClient, type RegistryClient } from '../../../src/registry/client.js';
import type { Descriptor, Repository } from '../../../src/registry/types.js';
import { signNotation } from '../../../src/sign/notation/index.js';
import { createNotationVerifier } from '../../../src/verifiers/notation/index.js';
import { pushTestImage } from '../../helpers/images.js';
import { startRegistry, type TestRegistry } from '../../helpers/registry.js';
import { cert, trustFor } from './fixtures.js';

describe('notation signatures on a real registry', { timeout: 90_000 }, () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  let repo: Repository;
  let name: string;

  before(async () => {
    registry = await startRegistry();
    client = createRegistryClient({ insecureHosts: [registry.host] });
    const ref = parseReference(`${registry.host}/net-monitor:v1`);
    repo = client.repository(ref);
    name = `${registry.host}/net-monitor`;
  });
  after(async () => {
    await client?.close();
    await registry?.stop();
  });

  const subjectOf = (descriptor: Descriptor): Subject => ({
    name,
    reference: parseReference(`${name}@${descriptor.digest}`),
    descriptor,
    repository: repo,
  });
  const artifactOf = (descriptor: Descriptor): Artifact => ({
    descriptor,
    kind: 'referrer',
    source: 'referrers-api',
    referrers: [],
  });
  const ctx = () => ({
    repository: repo,
    signal: AbortSignal.timeout(20_000),
    cache: createMemoryCache(),
    now: new Date(),
    logger: silentLogger,
  });

  for (const envelope of ['jws', 'cose'] as const) {
    it(`signs with ${envelope}, is discoverable as a referrer, and verifies`, async () => {
      const signer = await cert('acme');
      const image = await pushTestImage(repo, envelope, `notation-${envelope}`);
      const sig = await signNotation({
        repository: repo,
        subject: image,
        keyPem: signer.keyPem,
        certChainPem: signer.certPem,
        envelope,
      });
      assert.equal(sig.artifactType, 'application/vnd.cncf.notary.signature');
      const thumbprints = JSON.parse(
        sig.annotations?.['io.cncf.notary.x509chain.thumbprint#S256'] ?? '[]',
      ) as string[];
      assert.equal(thumbprints.length, 1);
      const found = await repo.referrers(image, { artifactType: 'application/vnd.cncf.notary.signature' });
      assert.ok(
        found.descriptors.some((d) => d.digest === sig.digest),
        'the signature is listed as a referrer of the image',
      );

      const { trust } = trustFor({ ca: [signer.der] });
      const verifier = createNotationVerifier(trust);
      assert.equal(verifier.accepts(artifactOf(sig)), true);
      const report = await verifyArtifact(verifier, subjectOf(image), artifactOf(sig), ctx());
      assert.equal(report.outcome, 'verified', report.message);
      assert.equal(report.reason, 'ok');
      assert.match(String(report.details.signer), /CN=acme\.example/);
    });
  }

  it('denies a signature by an untrusted certificate and one made for another image', async () => {
    const trusted = await cert('acme');
    const evil = await cert('evil');
    const image = await pushTestImage(repo, 'untrusted', 'notation-untrusted');
    const other = await pushTestImage(repo, 'other', 'notation-other');
    const { trust } = trustFor({ ca: [trusted.der] });
    const verifier = createNotationVerifier(trust);

    const evilSig = await signNotation({
      repository: repo,
      subject: image,
      keyPem: evil.keyPem,
      certChainPem: evil.certPem,
      envelope: 'jws',
    });
    const untrusted = await verifyArtifact(verifier, subjectOf(image), artifactOf(evilSig), ctx());
    assert.equal(untrusted.outcome, 'failed');
    assert.equal(untrusted.reason, 'untrusted-signer');

    // A signature of `other`, presented as if it were attached to `image`.
    const otherSig = await signNotation({
      repository: repo,
      subject: other,
      keyPem: trusted.keyPem,
      certChainPem: trusted.certPem,
      envelope: 'cose',
    });
    const mismatch = await verifyArtifact(verifier, subjectOf(image), artifactOf(otherSig), ctx());
    assert.equal(mismatch.outcome, 'failed');
    assert.equal(mismatch.reason, 'digest-mismatch');
  });

  it('answers no-trust-policy when no statement covers the repository, and policy-skip for skip', async () => {
    const signer = await cert('acme');
    const image = await pushTestImage(repo, 'scoped', 'notation-scoped');
    const sig = await signNotation({
      repository: repo,
      subject: image,
      keyPem: signer.keyPem,
      certChainPem: signer.certPem,
      envelope: 'jws',
    });
    const { trust } = trustFor({ ca: [signer.der] });
    const scoped = {
      ...trust,
      policy: {
        ...trust.policy,
        statements: trust.policy.statements.map((s) => ({
          ...s,
          registryScopes: ['registry.example/other'],
        })),
      },
    };
    const none = await verifyArtifact(
      createNotationVerifier(scoped),
      subjectOf(image),
      artifactOf(sig),
      ctx(),
    );
    assert.equal(none.reason, 'no-trust-policy');
    assert.equal(none.outcome, 'failed');
    const skip = trustFor({}, { level: 'skip' }, []);
    const skipped = await verifyArtifact(
      createNotationVerifier(skip.trust),
      subjectOf(image),
      artifactOf(sig),
      ctx(),
    );
    assert.equal(skipped.reason, 'policy-skip');
  });
});
