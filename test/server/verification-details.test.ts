/**
 * Per-image verification details, forced (docs/remote-verification.md): pod annotations
 * `vouch.dev/verify.<container>.key|identity|issuer` or the `vouch.dev/verify` JSON, checked by
 * the live webhook (HTTPS, mTLS) against signatures the cluster's policy verified on a real
 * registry. An enforced namespace (config or the /enforce-details path) denies a container without
 * details (`no-verification-details`); details narrow trust and never widen it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { VouchConfigInput } from '../../src/config/schema.js';
import type { Decision, Report } from '../../src/engine/types.js';
import { parseReference } from '../../src/reference/parse.js';
import type { Descriptor } from '../../src/registry/types.js';
import { checkDetails, detailsFor } from '../../src/server/verification-details.js';
import { decryptCosignKey, generateCosignKeyPair, signCosign } from '../../src/sign/cosign/index.js';
import { podReview } from './public-review.js';
import { type PublicSetup, startPublicSetup } from './public-setup.js';

interface KeyPair {
  readonly pub: string;
  readonly privateKeyPem: string;
}

async function keyPair(dir: string, name: string): Promise<KeyPair> {
  const pair = generateCosignKeyPair('pw');
  const pub = path.join(dir, `${name}.pub`);
  await writeFile(pub, pair.publicKeyPem);
  return { pub, privateKeyPem: decryptCosignKey(pair.privateKeyFile, 'pw') };
}

describe('verification details on the live webhook', { timeout: 180_000 }, () => {
  let s: PublicSetup;
  let dir: string;
  let partner: KeyPair;
  let outsider: KeyPair;
  const img: Record<string, Descriptor> = {};
  const ref = (repo: string) => `${s.registry.host}/${repo}@${(img[repo] as Descriptor).digest}`;

  /** Pushes `repo:v1` signed by `key` only. */
  const pushSignedBy = async (repo: string, key: KeyPair): Promise<Descriptor> => {
    const subject = await s.images.push(repo, 'v1', false);
    await signCosign({
      repository: s.images.client.repository(parseReference(`${s.registry.host}/${repo}:v1`)),
      subject,
      subjectReference: `${s.registry.host}/${repo}`,
      privateKeyPem: key.privateKeyPem,
      mode: 'tag',
    });
    return subject;
  };

  const admit = async (
    namespace: string,
    containers: Array<[string, string]>,
    annotations?: Record<string, string>,
    webhookPath?: string,
  ) =>
    s.admit(await podReview({ namespace, containers, ...(annotations ? { annotations } : {}) }), webhookPath);

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vouch-details-'));
    partner = await keyPair(dir, 'partner');
    outsider = await keyPair(dir, 'outsider');
    // the cluster trusts the images' own key ("release") and the partner's; not the outsider's
    const cluster = (host: string, releasePub: string): VouchConfigInput =>
      ({
        registries: { insecure: [host], dockerConfig: false },
        verifiers: { cosign: { keys: [releasePub, partner.pub] } },
        policy: { default: 'deny', rules: [{ name: 'all', scope: '*', require: [{ verifier: 'cosign' }] }] },
      }) as VouchConfigInput;
    s = await startPublicSetup(
      { namespaces: ['secure'] },
      {
        verificationDetails: {
          enforceNamespaces: ['secure'],
          keys: { partner: partner.pub, outsider: outsider.pub },
        },
      },
      cluster,
    );
    img.a = await s.images.push('a', 'v1', true);
    img.b = await pushSignedBy('b', partner);
    img.c = await pushSignedBy('c', outsider);
  });
  after(async () => {
    await s?.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('when the namespace enforces verification details', () => {
    it('denies a container without details as no-verification-details, naming it', async () => {
      const res = await admit('secure', [['web', ref('b')]]);
      assert.equal(res.allowed, false);
      assert.match(res.status?.message ?? '', /containers\[web\] .*: no-verification-details/);
    });

    it('allows an image signed by the key its annotation names, and publishes the details with it', async () => {
      const res = await admit('secure', [['web', ref('b')]], { 'vouch.dev/verify.web.key': 'partner' });
      assert.equal(res.allowed, true, res.status?.message);
      const list = await s.get(`${s.publicUrl}/v1/applications/secure`);
      const env = JSON.parse(list.body.toString()) as { payload: string };
      const payload = JSON.parse(Buffer.from(env.payload, 'base64').toString()) as {
        images: Array<{ container: string; details?: unknown }>;
      };
      assert.deepEqual(payload.images.find((i) => i.container === 'web')?.details, { key: 'partner' });
    });

    it('denies an image the cluster trusts when it is not signed by the named key (narrowing)', async () => {
      const res = await admit('secure', [['web', ref('a')]], { 'vouch.dev/verify.web.key': 'partner' });
      assert.equal(res.allowed, false);
      assert.match(
        res.status?.message ?? '',
        /verification-details-mismatch: no verified signature by key "partner"/,
      );
    });

    it('never widens trust: naming a key the cluster does not trust does not admit its signature', async () => {
      const res = await admit('secure', [['web', ref('c')]], { 'vouch.dev/verify.web.key': 'outsider' });
      assert.equal(res.allowed, false);
      assert.doesNotMatch(
        res.status?.message ?? '',
        /verification-details/,
        'the cluster policy denied first',
      );
    });

    it('treats an unknown key name as an error, and malformed details as invalid', async () => {
      const unknown = await admit('secure', [['web', ref('b')]], { 'vouch.dev/verify.web.key': 'nobody' });
      assert.equal(unknown.allowed, false);
      assert.match(unknown.status?.message ?? '', /unknown-key: key "nobody"/);
      const half = await admit('secure', [['web', ref('b')]], {
        'vouch.dev/verify.web.identity': 'a@b.example',
      });
      assert.match(
        half.status?.message ?? '',
        /invalid-verification-details: .*identity and issuer go together/,
      );
      const json = await admit('secure', [['web', ref('b')]], { 'vouch.dev/verify': '{not json' });
      assert.match(
        json.status?.message ?? '',
        /invalid-verification-details: annotation vouch.dev\/verify is not a JSON object/,
      );
    });

    it('reads the JSON annotation, the per-container annotations winning over it', async () => {
      const both = {
        'vouch.dev/verify': JSON.stringify({ web: { key: 'partner' }, side: { key: 'partner' } }),
      };
      const ok = await admit(
        'secure',
        [
          ['web', ref('b')],
          ['side', ref('b')],
        ],
        both,
      );
      assert.equal(ok.allowed, true, ok.status?.message);
      const overridden = await admit(
        'secure',
        [
          ['web', ref('b')],
          ['side', ref('b')],
        ],
        {
          ...both,
          'vouch.dev/verify.side.key': 'outsider',
        },
      );
      assert.equal(overridden.allowed, false);
      assert.match(
        overridden.status?.message ?? '',
        /1 of 2 images failed[\s\S]*containers\[side\].*key "outsider"/,
      );
    });

    it('denies a keyless identity that no verified signature carries', async () => {
      const res = await admit('secure', [['web', ref('b')]], {
        'vouch.dev/verify.web.identity':
          'https://github.com/acme/web/.github/workflows/release.yml@refs/heads/main',
        'vouch.dev/verify.web.issuer': 'https://token.actions.githubusercontent.com',
      });
      assert.equal(res.allowed, false);
      assert.match(
        res.status?.message ?? '',
        /verification-details-mismatch: no verified signature by https:\/\/github.com/,
      );
    });
  });

  describe('when the namespace does not enforce them', () => {
    it('allows a container without details, but still holds a container to the details it names', async () => {
      assert.equal((await admit('relaxed', [['web', ref('a')]])).allowed, true);
      const named = await admit('relaxed', [['web', ref('a')]], { 'vouch.dev/verify.web.key': 'partner' });
      assert.equal(named.allowed, false);
    });

    it('enforces them on the /admission/validate/enforce-details path (for a namespaceSelector)', async () => {
      const res = await admit(
        'labelled',
        [['web', ref('a')]],
        undefined,
        '/admission/validate/enforce-details',
      );
      assert.equal(res.allowed, false);
      assert.match(res.status?.message ?? '', /no-verification-details/);
      const res2 = await admit(
        'labelled',
        [['web', ref('b')]],
        { 'vouch.dev/verify.web.key': 'partner' },
        '/admission/validate/enforce-details+public',
      );
      assert.equal(res2.allowed, true, res2.status?.message);
      const bogus = await s.client.post(
        `${s.vouch.url}/admission/validate/enforce-everything`,
        await podReview({ namespace: 'x', containers: [] }),
      );
      assert.equal(bogus.status, 404);
    });
  });
});

describe('checkDetails and detailsFor (keyless facts)', () => {
  const decision = (details: Record<string, unknown>, outcome: Report['outcome'] = 'verified'): Decision =>
    ({
      allowed: true,
      verified: true,
      mode: 'enforce',
      wouldDeny: false,
      reference: 'r.example/a:v1',
      subject: { name: 'r.example/a', digest: `sha256:${'1'.repeat(64)}`, mediaType: 'x', size: 1 },
      rule: 'all',
      why: [],
      reports: [
        {
          verifier: 'cosign',
          artifact: { digest: `sha256:${'2'.repeat(64)}`, mediaType: 'x' },
          outcome,
          reason: 'ok',
          message: '',
          details,
          nested: [],
        },
      ],
      decidedAt: new Date().toISOString(),
    }) as Decision;
  const keyless = { identity: { issuer: 'https://issuer.example', subjects: ['dev@acme.example'] } };
  const cases: Array<[string, Record<string, unknown>, Report['outcome'], boolean]> = [
    ['bundle identity matches', keyless, 'verified', true],
    ['simple-signing signer identity matches', { signers: [keyless] }, 'verified', true],
    ['attestation identity matches', { attestations: [keyless] }, 'verified', true],
    [
      'other issuer',
      { identity: { issuer: 'https://other.example', subjects: ['dev@acme.example'] } },
      'verified',
      false,
    ],
    [
      'other subject',
      { identity: { issuer: 'https://issuer.example', subjects: ['eve@acme.example'] } },
      'verified',
      false,
    ],
    ['a failed report never counts', keyless, 'failed', false],
  ];
  for (const [name, details, outcome, ok] of cases) {
    it(`${name}: ${ok ? 'ok' : 'mismatch'}`, () => {
      const r = checkDetails(
        { identity: 'dev@acme.example', issuer: 'https://issuer.example' },
        decision(details, outcome),
        new Map(),
      );
      assert.equal(r.ok, ok);
    });
  }
  it('reads per-container annotations and ignores other containers', () => {
    assert.deepEqual(detailsFor({ 'vouch.dev/verify.web.key': 'k' }, 'web'), {
      kind: 'details',
      details: { key: 'k' },
    });
    assert.deepEqual(detailsFor({ 'vouch.dev/verify.web.key': 'k' }, 'db'), { kind: 'none' });
    assert.equal(detailsFor({ 'vouch.dev/verify': '[1]' }, 'web').kind, 'invalid');
    assert.equal(detailsFor({ 'vouch.dev/verify.web.colour': 'x' }, 'web').kind, 'none');
  });
});
