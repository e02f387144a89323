/**
 * The notation verifier's `scopePolicy`: the trust policy statement that covers an image decides
 * whether a signature is required at all (`skip`) and whether failures deny (`audit`), and vouch's
 * policy honours it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Report } from '../../../src/engine/types.js';
import { compilePolicy } from '../../../src/policy/policy.js';
import { parseTrustPolicy } from '../../../src/trust/notation/policy.js';
import type { NotationTrust } from '../../../src/trust/notation/types.js';
import { createNotationVerifier, notationScopePolicy } from '../../../src/verifiers/notation/index.js';

const stmt = (name: string, scopes: string[], level: string) => ({
  name,
  registryScopes: scopes,
  signatureVerification: { level },
  ...(level === 'skip' ? {} : { trustStores: ['ca:acme'], trustedIdentities: ['*'] }),
});

function trustOf(statements: Array<Record<string, unknown>>): NotationTrust {
  return {
    policy: parseTrustPolicy({ version: '1.0', trustPolicies: statements }, 'trustPolicy'),
    stores: { ca: new Map(), signingAuthority: new Map(), tsa: new Map() },
    generation: 'test',
    revocation: { timeoutMs: 1000 },
  };
}

const trust = trustOf([
  stmt('skipped', ['registry.example/skip/me'], 'skip'),
  stmt('audited', ['registry.example/audit/me'], 'audit'),
  stmt('permissive', ['registry.example/lenient'], 'permissive'),
  stmt('strict', ['registry.example/strict'], 'strict'),
]);

describe('notation scopePolicy', () => {
  it('maps the matched statement level: skip -> not required, audit -> audit, else enforce', () => {
    assert.deepEqual(notationScopePolicy(trust, 'registry.example/skip/me'), {
      name: 'skipped',
      required: false,
      mode: 'enforce',
    });
    assert.deepEqual(notationScopePolicy(trust, 'registry.example/audit/me'), {
      name: 'audited',
      required: true,
      mode: 'audit',
    });
    assert.deepEqual(notationScopePolicy(trust, 'registry.example/lenient'), {
      name: 'permissive',
      required: true,
      mode: 'enforce',
    });
    assert.deepEqual(notationScopePolicy(trust, 'registry.example/strict'), {
      name: 'strict',
      required: true,
      mode: 'enforce',
    });
  });

  it('is undefined when no statement covers the image, and uses the "*" statement otherwise', () => {
    assert.equal(notationScopePolicy(trust, 'registry.example/other'), undefined);
    const withGlobal = trustOf([
      stmt('exact', ['registry.example/a'], 'strict'),
      stmt('global', ['*'], 'skip'),
    ]);
    assert.equal(notationScopePolicy(withGlobal, 'registry.example/a')?.name, 'exact');
    assert.deepEqual(notationScopePolicy(withGlobal, 'registry.example/b'), {
      name: 'global',
      required: false,
      mode: 'enforce',
    });
  });

  it('is exposed on the Verifier and changes vouch policy decisions', () => {
    const verifier = createNotationVerifier(trust);
    assert.ok(verifier.scopePolicy, 'the notation verifier implements scopePolicy');
    const policy = compilePolicy({
      default: 'deny',
      rules: [
        {
          name: 'all',
          scope: '*',
          mode: 'enforce',
          match: 'all',
          platforms: 'index',
          verifyIndex: false,
          require: [{ verifier: 'notation', artifacts: 'any' }],
        },
      ],
    });
    const decideFor = (image: string, reports: Report[]) => {
      const scopes = new Map();
      const sp = verifier.scopePolicy?.(image);
      if (sp) scopes.set('notation', sp);
      return policy.decide(policy.select(image), reports, scopes);
    };
    // No signature at all: denied under strict, allowed under skip, allowed-but-reported under audit.
    assert.equal(decideFor('registry.example/strict', []).allowed, false);
    const skipped = decideFor('registry.example/skip/me', []);
    assert.equal(skipped.allowed, true);
    assert.match(skipped.why.join('\n'), /not required by its policy "skipped"/);
    const audited = decideFor('registry.example/audit/me', []);
    assert.equal(audited.allowed, true);
    assert.equal(audited.wouldDeny, true);
    assert.equal(audited.mode, 'audit');
    // Unscoped: vouch's policy applies unchanged (no signature -> denied).
    assert.equal(decideFor('registry.example/other', []).allowed, false);
  });
});
