/**
 * Loading Notary Project trust material: trust policy validation with errors that name the field,
 * stores from files and from notation's config-dir layout.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isVouchError } from '../../../src/errors.js';
import { loadNotationTrust } from '../../../src/trust/notation/load.js';
import { parseTrustPolicy, selectTrustPolicyStatement } from '../../../src/trust/notation/policy.js';
import { cert } from '../../verifiers/notation/fixtures.js';

const statement = (over: Record<string, unknown> = {}) => ({
  name: 'acme',
  registryScopes: ['*'],
  signatureVerification: { level: 'strict' },
  trustStores: ['ca:acme'],
  trustedIdentities: ['*'],
  ...over,
});
const doc = (...statements: unknown[]) => ({ version: '1.0', trustPolicies: statements });
const P = 'verifiers.notation.trustPolicy';

describe('when a trust policy is parsed', () => {
  const bad: Array<[string, unknown, string]> = [
    [
      'an unknown level',
      doc(statement({ signatureVerification: { level: 'strictt' } })),
      `${P}.trustPolicies[0].signatureVerification.level: unknown level "strictt"`,
    ],
    ['a wrong version', { ...doc(statement()), version: '2.0' }, `${P}.version: must be "1.0"`],
    ['no statements', doc(), `${P}.trustPolicies: must be a non-empty array`],
    [
      'an integrity override',
      doc(statement({ signatureVerification: { level: 'strict', override: { integrity: 'log' } } })),
      `${P}.trustPolicies[0].signatureVerification.override.integrity: integrity cannot be overridden`,
    ],
    [
      'an unknown override action',
      doc(statement({ signatureVerification: { level: 'strict', override: { expiry: 'skip' } } })),
      `${P}.trustPolicies[0].signatureVerification.override.expiry: unknown action "skip"`,
    ],
    [
      'a bad store type',
      doc(statement({ trustStores: ['x509:acme'] })),
      `${P}.trustPolicies[0].trustStores[0]: "x509:acme": unknown trust store type`,
    ],
    [
      'two global statements',
      doc(statement(), statement({ name: 'b' })),
      `${P}.trustPolicies[1].registryScopes[0]: scope "*" is already used by statement "acme"`,
    ],
    [
      'a duplicate name',
      doc(statement(), statement({ registryScopes: ['r.example/a'] })),
      `${P}.trustPolicies[1].name: duplicate statement name "acme"`,
    ],
    [
      'an identity without C, ST, O',
      doc(statement({ trustedIdentities: ['x509.subject: CN=acme'] })),
      `${P}.trustPolicies[0].trustedIdentities[0]: "x509.subject: CN=acme" must contain C, ST (or S) and O`,
    ],
    [
      'overlapping identities',
      doc(
        statement({
          trustedIdentities: ['x509.subject: C=US, ST=WA, O=acme', 'x509.subject: C=US, ST=WA, O=acme, OU=x'],
        }),
      ),
      'overlaps with trustedIdentities[0]',
    ],
    [
      'skip with trust stores',
      doc(statement({ signatureVerification: { level: 'skip' } })),
      'skips signature verification but configures trust stores',
    ],
    [
      'a scope with a tag',
      doc(statement({ registryScopes: ['r.example/app:v1'] })),
      'must be a fully qualified repository',
    ],
    [
      'a missing trustedIdentities',
      doc(statement({ trustedIdentities: undefined })),
      `${P}.trustPolicies[0].trustedIdentities: must be a non-empty array`,
    ],
  ];
  for (const [name, input, message] of bad) {
    it(`rejects ${name}, naming the field`, () => {
      assert.throws(
        () => parseTrustPolicy(input, P),
        (err: unknown) => isVouchError(err, 'CONFIG_INVALID') && err.message.includes(message),
      );
    });
  }

  it('resolves levels with overrides, and selects exact scopes before "*"', () => {
    const policy = parseTrustPolicy(
      doc(
        statement({
          signatureVerification: { level: 'permissive', override: { authenticTimestamp: 'enforce' } },
        }),
        statement({
          name: 'app',
          registryScopes: ['r.example/app'],
          signatureVerification: { level: 'audit', override: { revocation: 'skip' } },
        }),
      ),
      P,
    );
    const global = selectTrustPolicyStatement(policy, 'r.example/other');
    assert.equal(global?.name, 'acme');
    assert.deepEqual(global?.actions, {
      integrity: 'enforce',
      authenticity: 'enforce',
      authenticTimestamp: 'enforce',
      expiry: 'log',
      revocation: 'log',
    });
    const app = selectTrustPolicyStatement(policy, 'r.example/app');
    assert.equal(app?.name, 'app');
    assert.equal(app?.actions.authenticity, 'log');
    assert.equal(app?.actions.revocation, 'skip');
  });
});

describe('when trust material is loaded from files', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vouch-notation-trust-'));
    const acme = await cert('acme');
    await mkdir(path.join(dir, 'notation', 'truststore', 'x509', 'ca', 'acme'), { recursive: true });
    await writeFile(path.join(dir, 'notation', 'truststore', 'x509', 'ca', 'acme', 'acme.crt'), acme.certPem);
    await writeFile(path.join(dir, 'notation', 'trustpolicy.json'), JSON.stringify(doc(statement())));
    await writeFile(path.join(dir, 'acme.pem'), acme.certPem);
    const root = await cert('root', { ca: true });
    const leaf = await cert('leaf-of-root', { issuer: root });
    await writeFile(path.join(dir, 'leaf.pem'), leaf.certPem);
    await writeFile(path.join(dir, 'garbage.pem'), 'not a certificate');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads notation's config-dir layout", async () => {
    const trust = await loadNotationTrust({ configDir: 'notation' }, { baseDir: dir });
    assert.equal(trust.stores.ca.get('acme')?.certificates.length, 1);
    assert.match(trust.generation, /^sha256:[0-9a-f]{64}$/);
  });

  it('reads named stores from vouch.yaml paths, and the generation changes with the trust material', async () => {
    const a = await loadNotationTrust(
      { trustPolicy: doc(statement()), trustStores: { ca: { acme: ['./acme.pem'] } } },
      { baseDir: dir },
    );
    const b = await loadNotationTrust(
      {
        trustPolicy: doc(statement({ trustedIdentities: ['x509.subject: C=US, ST=WA, O=Notary'] })),
        trustStores: { ca: { acme: ['./acme.pem'] } },
      },
      { baseDir: dir },
    );
    assert.notEqual(a.generation, b.generation);
  });

  const failures: Array<[string, Record<string, unknown>, string]> = [
    [
      'a missing certificate file',
      { trustPolicy: doc(statement()), trustStores: { ca: { acme: ['./missing.pem'] } } },
      'verifiers.notation.trustStores.ca.acme: ./missing.pem not found',
    ],
    [
      'an unreadable certificate',
      { trustPolicy: doc(statement()), trustStores: { ca: { acme: ['./garbage.pem'] } } },
      'verifiers.notation.trustStores.ca.acme: failed to read the trusted certificate garbage.pem',
    ],
    [
      'a non-CA leaf that is not self-signed',
      { trustPolicy: doc(statement()), trustStores: { ca: { acme: ['./leaf.pem'] } } },
      'is not a CA certificate or self-signed signing certificate',
    ],
    [
      'a store the policy names but nobody configures',
      { trustPolicy: doc(statement()) },
      'store "ca:acme" is not configured',
    ],
    [
      'a missing trust policy file',
      { trustPolicyFile: './nope.json' },
      'verifiers.notation.trustPolicyFile: ',
    ],
    [
      'a config dir without the named store',
      { configDir: 'notation', trustPolicy: doc(statement({ trustStores: ['ca:other'] })) },
      'truststore/x509/ca/other',
    ],
  ];
  for (const [name, config, message] of failures) {
    it(`fails for ${name}, naming it`, async () => {
      await assert.rejects(
        loadNotationTrust(config, { baseDir: dir }),
        (err: unknown) =>
          isVouchError(err, 'CONFIG_INVALID', 'TRUST_MATERIAL_INVALID') && err.message.includes(message),
      );
    });
  }
});
