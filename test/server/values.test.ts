import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decision } from '../../src/engine/types.js';
import { gatekeeperValue, gatekeeperValueParts, provideEntry } from '../../src/server/values.js';
import type { AtprotoDetails } from '../../src/verifiers/atproto/details.js';

const decision = {
  allowed: true,
  verified: true,
  mode: 'enforce',
  wouldDeny: false,
  rule: 'all "quoted" \u2028 rule',
  why: ['notation: 1 of 1 verified', 'trace "\u0000vouch-trace-id\u0000" in a message'],
  reference: 'registry.test/app:v1',
  subject: { name: 'registry.test/app', digest: `sha256:${'a'.repeat(64)}`, mediaType: 'x', size: 1 },
  reports: [
    {
      verifier: 'notation',
      outcome: 'verified',
      reason: 'ok',
      message: 'signé by "CN=ü" \ud83d\ude00',
      artifact: { digest: `sha256:${'b'.repeat(64)}`, mediaType: 'm', size: 2, artifactType: 't' },
      details: { signer: 'CN=ü', chain: [{ sha256: 'c' }] },
      nested: [],
    },
  ],
  decidedAt: '2026-01-01T00:00:00.000Z',
} as unknown as Decision;

describe('the serialised Gatekeeper value', () => {
  it('is byte for byte JSON.stringify of the value, with any trace id between its parts', () => {
    for (const traceID of ['0f1e2d3c-aaaa-bbbb-cccc-000000000000', 'odd "id" \\ é']) {
      const [before, after] = gatekeeperValueParts(decision);
      const joined = Buffer.concat([before, Buffer.from(JSON.stringify(traceID)), after]).toString('utf8');
      assert.equal(joined, JSON.stringify(gatekeeperValue(decision, traceID)));
      assert.deepEqual(JSON.parse(joined), gatekeeperValue(decision, traceID));
    }
  });

  it('is computed once per decision object', () => {
    assert.equal(gatekeeperValueParts(decision), gatekeeperValueParts(decision));
    assert.notEqual(gatekeeperValueParts({ ...decision }), gatekeeperValueParts(decision));
  });
});

describe('the Gatekeeper value in Ratify\'s shape (docs/gatekeeper.md "Ratify\'s templates behind vouch")', () => {
  const digest = (c: string) => `sha256:${c.repeat(64)}`;
  const signature = {
    verifier: 'notation',
    outcome: 'verified',
    reason: 'ok',
    message: 'notation signature verified',
    artifact: { digest: digest('d'), mediaType: 'm', artifactType: 'application/vnd.cncf.notary.signature' },
    details: { signer: 'CN=signer,O=Acme', issuer: 'CN=Acme CA,O=Acme' },
    nested: [],
  };
  const denied = {
    ...decision,
    allowed: false,
    verified: false,
    reports: [
      signature,
      {
        verifier: 'vulnerabilityReport',
        outcome: 'failed',
        reason: 'disallowed-severity',
        message: 'the trivy report lists 1 vulnerability of a disallowed severity',
        artifact: { digest: digest('e'), mediaType: 'm', artifactType: 'application/sarif+json' },
        details: { scanner: 'trivy', created: '2026-01-01T00:00:00.000Z', violations: ['CVE-2024-4000'] },
        nested: [{ ...signature, artifact: { ...signature.artifact, digest: digest('f') } }],
      },
    ],
  } as unknown as Decision;
  const value = gatekeeperValue(denied, 'trace');
  const [notation, vuln] = value.verifierReports;

  it('has both verdicts: isSuccess (Ratify v1) and succeeded (Ratify v2), each the decision', () => {
    assert.equal(value.isSuccess, false);
    assert.equal(value.succeeded, false);
    assert.equal(gatekeeperValue(decision, 'trace').succeeded, true);
    const audit = { ...denied, allowed: true, mode: 'audit', wouldDeny: true } as Decision;
    assert.equal(gatekeeperValue(audit, 'trace').succeeded, true, 'audit mode allows, as isSuccess does');
    // docs/architecture.md "isSuccess: one meaning per API": the Gatekeeper value's is `allowed`
    // (not `verified`, which the same audit decision has false); a report's is its own outcome
    assert.deepEqual(
      [gatekeeperValue(audit, 'trace').isSuccess, gatekeeperValue(audit, 'trace').verified],
      [true, false],
    );
    assert.deepEqual(
      gatekeeperValue(audit, 'trace').verifierReports.map((r) => r.isSuccess),
      [true, false],
    );
  });

  it("names each verifier by Ratify's type and its extensions by Ratify's keys, vouch's details kept", () => {
    assert.equal(notation?.type, 'notation');
    assert.equal(notation?.verifierType, 'notation');
    assert.equal(notation?.name, 'notation');
    assert.equal(notation?.extensions.Issuer, 'CN=Acme CA,O=Acme');
    assert.equal(notation?.extensions.SN, 'CN=signer,O=Acme');
    assert.equal(notation?.extensions.issuer, 'CN=Acme CA,O=Acme');
    assert.equal(vuln?.type, 'vulnerabilityreport');
    assert.equal(vuln?.verifierType, 'vulnerabilityreport');
    assert.equal(vuln?.verifierName, 'vulnerabilityReport');
    assert.equal(vuln?.extensions.createdAt, '2026-01-01T00:00:00.000Z');
    assert.equal(vuln?.extensions.scanner, 'trivy');
    assert.deepEqual(vuln?.extensions.severityViolations, ['CVE-2024-4000']);
    assert.equal(vuln?.isSuccess, false);
    assert.equal(vuln?.errorReason, 'disallowed-severity');
  });

  it("puts an artifact's own signatures in nestedResults, on that artifact; none: no nestedResults", () => {
    assert.equal(notation?.subject, `registry.test/app@${digest('a')}`);
    assert.equal('nestedResults' in (notation ?? {}), false, 'Ratify omits an empty nestedResults');
    assert.equal(vuln?.nestedResults?.length, 1);
    const nested = vuln?.nestedResults?.[0];
    assert.equal(nested?.subject, `registry.test/app@${digest('e')}`);
    assert.equal(nested?.artifactType, 'application/vnd.cncf.notary.signature');
    assert.equal(nested?.isSuccess, true);
    assert.equal(nested?.referenceDigest, digest('f'));
  });
});

describe('the /provide entry', () => {
  const atprotoDetails: AtprotoDetails = {
    did: 'did:plc:abc',
    handle: 'alice.test',
    handleVerified: true,
    signingKey: 'zQ3sh',
    pds: 'https://pds.test',
    recordUri: 'at://did:plc:abc/io.atcr.manifest/3k',
    recordCid: 'bafyrecord',
    commitCid: 'bafycommit',
    commitRev: '3k2',
    signedAt: '2026-01-01T00:00:00.000Z',
  };
  const report = (verifier: string, outcome: string, details: object) => ({
    verifier,
    outcome,
    reason: outcome === 'verified' ? 'ok' : 'untrusted-signer',
    message: 'm',
    artifact: { digest: `sha256:${'d'.repeat(64)}`, mediaType: 'm' },
    details,
    nested: [],
  });
  const decided = (reports: object[]) => ({ ...decision, reports }) as unknown as Decision;

  it("fills did, handle, signedAt and commitCid from the verified atproto report's typed details", () => {
    const entry = provideEntry(
      'registry.test/app:v1',
      decided([
        report('atproto', 'failed', { ...atprotoDetails, did: 'did:plc:forged' }),
        report('notation', 'verified', { signer: 'CN=x' }),
        report('atproto', 'verified', atprotoDetails),
      ]),
    );
    assert.deepEqual(
      [entry.did, entry.handle, entry.signedAt, entry.commitCid],
      ['did:plc:abc', 'alice.test', '2026-01-01T00:00:00.000Z', 'bafycommit'],
    );
    assert.deepEqual(
      entry.signers?.map((s) => s.verifier),
      ['notation', 'atproto'],
    );
  });

  it('has no ATCR fields without a verified atproto report, whatever other details say', () => {
    const entry = provideEntry(
      'registry.test/app:v1',
      decided([report('cosign', 'verified', { did: 'did:plc:other', signingTime: 'x', commit: 'y' })]),
    );
    assert.deepEqual(
      [entry.did, entry.handle, entry.signedAt, entry.commitCid],
      [undefined, undefined, undefined, undefined],
    );
  });
});
