import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Outcome, Report } from '../../src/engine/types.js';
import { compilePolicy } from '../../src/policy/policy.js';
import { policySchema } from '../../src/policy/types.js';

function report(
  verifier: string,
  outcome: Outcome,
  reason = outcome === 'verified' ? 'ok' : 'untrusted-signer',
): Report {
  return {
    verifier,
    artifact: { digest: `sha256:${'a'.repeat(64)}`, mediaType: 'application/vnd.oci.image.manifest.v1+json' },
    outcome,
    reason,
    message: `${verifier} said ${reason}`,
    details: {},
    nested: [],
  };
}

const policy = compilePolicy(
  policySchema.parse({
    rules: [
      { name: 'everything', scope: '*', require: [{ verifier: 'notation' }] },
      { name: 'acme', scope: 'ghcr.io/acme/*', require: [{ verifier: 'cosign', artifacts: 'all' }] },
      {
        name: 'acme-api',
        scope: 'ghcr.io/acme/api',
        match: 'any',
        require: [{ verifier: 'cosign' }, { verifier: 'notation' }],
      },
      { name: 'both', scope: 'ghcr.io/both/*', require: [{ verifier: 'cosign' }, { verifier: 'notation' }] },
      { name: 'audited', scope: 'ghcr.io/audit/*', mode: 'audit', require: [{ verifier: 'notation' }] },
    ],
  }),
);

describe('policy: which rule applies', () => {
  it('picks the most specific matching rule', () => {
    assert.equal(policy.select('ghcr.io/acme/api').name, 'acme-api');
    assert.equal(policy.select('ghcr.io/acme/web').name, 'acme');
    assert.equal(policy.select('docker.io/library/alpine').name, 'everything');
  });

  it('falls back to the default (deny) when nothing matches', () => {
    const p = compilePolicy(
      policySchema.parse({ rules: [{ name: 'r', scope: 'ghcr.io/x/*', require: [] }] }),
    );
    const rule = p.select('docker.io/library/alpine');
    assert.equal(rule.isDefault, true);
    const v = p.decide(rule, []);
    assert.equal(v.allowed, false);
    assert.match(v.why.join(), /no policy rule matches/);
  });

  it('lets the default allow when configured', () => {
    const p = compilePolicy(policySchema.parse({ default: 'allow', rules: [] }));
    assert.equal(p.decide(p.select('a/b'), []).allowed, true);
  });
});

describe('policy: deciding', () => {
  it('denies with "no signature found" when the required verifier produced nothing', () => {
    const v = policy.decide(policy.select('docker.io/x/y'), []);
    assert.equal(v.allowed, false);
    assert.equal(v.verified, false);
    assert.match(v.why[0]!, /notation: no signature found/);
  });

  it('"any" artifacts: one verified signature suffices even beside a failed one', () => {
    const v = policy.decide(policy.select('docker.io/x/y'), [
      report('notation', 'failed'),
      report('notation', 'verified'),
    ]);
    assert.equal(v.allowed, true);
    assert.equal(v.verified, true);
  });

  it('"all" artifacts: one failure denies', () => {
    const v = policy.decide(policy.select('ghcr.io/acme/web'), [
      report('cosign', 'verified'),
      report('cosign', 'failed'),
    ]);
    assert.equal(v.allowed, false);
    assert.match(v.why.join(), /1 of 2 did not verify/);
  });

  it('an inconclusive report never counts as verified', () => {
    const v = policy.decide(policy.select('ghcr.io/acme/web'), [report('cosign', 'inconclusive', 'timeout')]);
    assert.equal(v.allowed, false);
  });

  it('match "all" needs every verifier; match "any" needs one', () => {
    const onlyNotation = [report('notation', 'verified')];
    assert.equal(policy.decide(policy.select('ghcr.io/both/x'), onlyNotation).allowed, false);
    assert.equal(policy.decide(policy.select('ghcr.io/acme/api'), onlyNotation).allowed, true);
    const both = [report('notation', 'verified'), report('cosign', 'verified')];
    assert.equal(policy.decide(policy.select('ghcr.io/both/x'), both).allowed, true);
  });

  it('audit mode allows what enforce would deny, and says so', () => {
    const v = policy.decide(policy.select('ghcr.io/audit/x'), [report('notation', 'failed')]);
    assert.equal(v.allowed, true);
    assert.equal(v.verified, false);
    assert.equal(v.wouldDeny, true);
    assert.equal(v.mode, 'audit');
    assert.match(v.why.join(), /audit mode/);
  });

  it("a format's own policy can waive a requirement or turn it to audit", () => {
    const rule = policy.select('docker.io/x/y');
    const waived = policy.decide(
      rule,
      [],
      new Map([['notation', { name: 'skip-dev', required: false, mode: 'enforce' as const }]]),
    );
    assert.equal(waived.allowed, true);
    const audited = policy.decide(
      rule,
      [report('notation', 'failed')],
      new Map([['notation', { name: 'watch', required: true, mode: 'audit' as const }]]),
    );
    assert.equal(audited.allowed, true);
    assert.equal(audited.verified, false);
    assert.equal(audited.wouldDeny, true);
  });

  it('generation changes when the policy changes', () => {
    const a = compilePolicy(policySchema.parse({ rules: [{ name: 'a', scope: '*', require: [] }] }));
    const b = compilePolicy(
      policySchema.parse({ rules: [{ name: 'a', scope: '*', mode: 'audit', require: [] }] }),
    );
    assert.notEqual(a.generation, b.generation);
  });
});

describe('policy: requirements on attestation predicate types', () => {
  const SLSA = 'https://slsa.dev/provenance/v1';
  const CDX = 'https://cyclonedx.org/bom';
  const p = compilePolicy(
    policySchema.parse({
      rules: [
        {
          name: 'release',
          scope: '*',
          require: [
            { verifier: 'cosign' },
            { verifier: 'cosign', predicateType: CDX },
            { verifier: 'cosign', predicateType: SLSA },
          ],
        },
      ],
    }),
  );
  const rule = p.select('oci/release');
  const signature = report('cosign', 'verified');
  const bundle = (type: string, outcome: Outcome = 'verified') => ({
    ...report('cosign', outcome),
    details: { predicateType: type },
  });
  const att = (...types: string[]) => ({
    ...report('cosign', 'verified'),
    details: { attestations: types.map((predicateType) => ({ predicateType })) },
  });

  it('holds when each predicate type was verified (bundles, or the layers of one .att manifest)', () => {
    assert.equal(p.decide(rule, [signature, bundle(CDX), bundle(SLSA)]).allowed, true);
    assert.equal(p.decide(rule, [signature, att(CDX, SLSA)]).allowed, true);
  });

  it('fails, naming the type, when one is missing, failed, or only a plain signature is there', () => {
    const missing = p.decide(rule, [signature, bundle(SLSA)]);
    assert.equal(missing.allowed, false);
    assert.match(
      missing.why.join('\n'),
      /cosign https:\/\/cyclonedx\.org\/bom: no attestation of this predicate type verified/,
    );
    const failed = p.decide(rule, [signature, bundle(CDX), bundle(SLSA, 'failed')]);
    assert.equal(failed.allowed, false);
    assert.match(failed.why.join('\n'), /cosign https:\/\/slsa\.dev\/provenance\/v1: /);
    assert.equal(p.decide(rule, [signature]).allowed, false);
  });
});

describe('policy: a rejected attestation explains a missing predicate type', () => {
  it('names the reason the verifier gave for the attestation of that type', () => {
    const SLSA = 'https://slsa.dev/provenance/v1';
    const p = compilePolicy(
      policySchema.parse({
        rules: [{ name: 'r', scope: '*', require: [{ verifier: 'cosign', predicateType: SLSA }] }],
      }),
    );
    const att = {
      ...report('cosign', 'verified'),
      details: {
        attestations: [{ predicateType: 'https://cyclonedx.org/bom' }],
        rejected: [{ predicateType: SLSA, reason: 'source-mismatch', message: 'source is evil' }],
      },
    };
    const v = p.decide(p.select('a/b'), [att]);
    assert.equal(v.allowed, false);
    assert.match(v.why.join('\n'), /provenance\/v1: source-mismatch: source is evil/);
  });
});
