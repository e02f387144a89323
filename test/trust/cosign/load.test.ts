/** Trusted root validation and cosign trust loading errors. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isVouchError } from '../../../src/errors.js';
import { generateCosignKeyPair } from '../../../src/sign/cosign/index.js';
import { loadCosignTrust, policyFor } from '../../../src/trust/cosign/load.js';
import { parseTrustedRoot } from '../../../src/trust/cosign/trusted-root.js';

// A real trusted root shape, generated here: one tlog and one CA (a throwaway key and self-signed cert).
const KEY =
  'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2G2Y+2tabdTV5BcGiBIx0a9fAFwrkBbmLSGtks4L3qX6yYY0zufBnhC8Ur/iy55GhWP/9A/bY2LhC30M9+RYtw==';
function root(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: 'https://rekor.example',
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          rawBytes: KEY,
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          validFor: { start: '2021-01-01T00:00:00Z' },
        },
        logId: { keyId: 'wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0=' },
      },
    ],
    certificateAuthorities: [],
    ctlogs: [],
    timestampAuthorities: [],
    ...overrides,
  };
}
function reject(doc: unknown): void {
  assert.throws(
    () => parseTrustedRoot(JSON.stringify(doc), 'root.json'),
    (e) => isVouchError(e, 'TRUST_MATERIAL_INVALID'),
  );
}

describe('trusted root validation', () => {
  it('accepts a well-formed root', () => {
    assert.equal(parseTrustedRoot(JSON.stringify(root()), 'root.json').rekorKeys.length, 1);
  });
  it('rejects a tlog without validFor.start', () => {
    const doc = root();
    (doc.tlogs as Array<{ publicKey: { validFor: object } }>)[0]!.publicKey.validFor = {};
    reject(doc);
  });
  it('rejects an end before the start', () => {
    const doc = root();
    (doc.tlogs as Array<{ publicKey: { validFor: object } }>)[0]!.publicKey.validFor = {
      start: '2022-01-01T00:00:00Z',
      end: '2021-01-01T00:00:00Z',
    };
    reject(doc);
  });
  it('rejects one log ID with two different keys', () => {
    const doc = root();
    const t = (doc.tlogs as Array<Record<string, unknown>>)[0]!;
    const other = generateCosignKeyPair('x').publicKeyPem.replace(/-----[A-Z ]+-----|\s/g, '');
    doc.tlogs = [t, { ...t, publicKey: { ...(t.publicKey as object), rawBytes: other } }];
    reject(doc);
  });
  it('rejects a wrong media type, a bad key and a CA without certificates', () => {
    reject(root({ mediaType: 'application/json' }));
    const bad = root();
    (bad.tlogs as Array<{ publicKey: { rawBytes: string } }>)[0]!.publicKey.rawBytes = 'AAAA';
    reject(bad);
    reject(
      root({
        certificateAuthorities: [
          { certChain: { certificates: [] }, validFor: { start: '2021-01-01T00:00:00Z' } },
        ],
      }),
    );
  });
  it('rejects non-JSON', () => {
    assert.throws(
      () => parseTrustedRoot('{', 'root.json'),
      (e) => isVouchError(e, 'TRUST_MATERIAL_INVALID'),
    );
  });
});

describe('loadCosignTrust', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vouch-cosign-trust-'));
    await writeFile(path.join(dir, 'cosign.pub'), generateCosignKeyPair('x').publicKeyPem);
    await writeFile(path.join(dir, 'other.pub'), generateCosignKeyPair('x').publicKeyPem);
    await writeFile(path.join(dir, 'bad.pub'), 'not a key');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('names the config path and file of a missing key', async () => {
    await assert.rejects(loadCosignTrust({ keys: ['./missing.pub'] }, { baseDir: dir }), (e) => {
      return (
        isVouchError(e, 'CONFIG_INVALID') && e.message === 'verifiers.cosign.keys[0]: ./missing.pub not found'
      );
    });
  });
  it('rejects a file that is not a key', async () => {
    await assert.rejects(loadCosignTrust({ keys: ['bad.pub'] }, { baseDir: dir }), (e) =>
      isVouchError(e, 'TRUST_MATERIAL_INVALID'),
    );
  });
  it('rejects keyless identities without a trusted root', async () => {
    await assert.rejects(
      loadCosignTrust({ identities: [{ subject: 'a@b', issuer: 'https://i' }] }, { baseDir: dir }),
      (e) => isVouchError(e, 'CONFIG_INVALID'),
    );
  });
  it('selects the most specific scope and changes generation with the keys', async () => {
    const t = await loadCosignTrust(
      { keys: ['cosign.pub'], policies: [{ scope: 'ghcr.io/acme/*', keys: ['other.pub'], threshold: 1 }] },
      { baseDir: dir },
    );
    const pem = await readFile(path.join(dir, 'other.pub'), 'utf8');
    assert.equal(
      policyFor(t, 'ghcr.io/acme/app').keys[0]?.source.endsWith('other.pub'),
      true,
      pem.slice(0, 10),
    );
    assert.equal(policyFor(t, 'docker.io/library/alpine').keys[0]?.source.endsWith('cosign.pub'), true);
    const t2 = await loadCosignTrust({ keys: ['other.pub'] }, { baseDir: dir });
    assert.notEqual(t.generation, t2.generation);
  });
});
