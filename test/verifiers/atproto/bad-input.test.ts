/**
 * Hostile and malformed input never crashes or hangs the ATProto verifier: each gives a specific
 * reason. Proofs are generated here with test keys (support/repo-build.ts) and then corrupted.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as dagCbor from '@ipld/dag-cbor';
import { parseAtprotoDid } from '../../../src/trust/atproto/syntax.js';
import { parseSignatureArtifact } from '../../../src/verifiers/atproto/artifact.js';
import { AtprotoFailure } from '../../../src/verifiers/atproto/failure.js';
import { parseDidDocument } from '../../../src/verifiers/atproto/identity/did-document.js';
import { checkUrlHost, isNonPublicAddress } from '../../../src/verifiers/atproto/identity/net-guard.js';
import { cidForBlock, readCar, writeCar } from '../../../src/verifiers/atproto/repo/car.js';
import {
  didKeyFromPrivateKey,
  keyFromVerificationMethod,
  parseDidKey,
} from '../../../src/verifiers/atproto/repo/keys.js';
import { verifyRecordProof } from '../../../src/verifiers/atproto/repo/proof.js';
import { buildRepo, repoCar } from './support/repo-build.js';

const DID = 'did:web:k256.example.com';
const KEY = Buffer.alloc(32, 3);
const PUB = parseDidKey(didKeyFromPrivateKey('k256', KEY));
const RKEY = '3lbx7kizy4k2a';
const RECORD = {
  $type: 'io.atcr.manifest',
  repository: 'app',
  digest: `sha256:${'e'.repeat(64)}`,
  mediaType: 'x',
  schemaVersion: 2,
  createdAt: '2026-01-01T00:00:00Z',
};
const records = {
  [`io.atcr.manifest/${RKEY}`]: RECORD,
  ...Object.fromEntries(
    Array.from({ length: 30 }, (_, i) => [`io.atcr.tag/t${i}`, { $type: 'io.atcr.tag', i }]),
  ),
};
const expected = { did: DID, key: PUB, collection: 'io.atcr.manifest', rkey: RKEY };

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof AtprotoFailure) return err.reason;
    throw err;
  }
  return 'ok';
}

describe('when the proof is well formed', () => {
  it('proves the record, and proves an absent key absent', () => {
    const repo = buildRepo({ did: DID, curve: 'k256', key: KEY, records });
    const proof = verifyRecordProof(repoCar(repo), expected);
    assert.equal(proof.recordCid?.toString(), repo.recordCids.get(`io.atcr.manifest/${RKEY}`)?.toString());
    assert.equal(proof.record?.digest, RECORD.digest);
    assert.equal(verifyRecordProof(repoCar(repo), { ...expected, rkey: '3zzzzzzzzzzzz' }).recordCid, null);
  });
  it('also verifies a P-256 repository', () => {
    const key = Buffer.alloc(32, 9);
    const repo = buildRepo({ did: DID, curve: 'p256', key, records });
    const proof = verifyRecordProof(repoCar(repo), {
      ...expected,
      key: parseDidKey(didKeyFromPrivateKey('p256', key)),
    });
    assert.equal(proof.record?.repository, 'app');
  });
});

describe('when the proof is corrupted', () => {
  const repo = buildRepo({ did: DID, curve: 'k256', key: KEY, records });
  const cases: [string, () => Uint8Array, string, Partial<typeof expected>?][] = [
    [
      'a high-S signature',
      () => repoCar(buildRepo({ did: DID, curve: 'k256', key: KEY, records, highS: true })),
      'high-s',
    ],
    [
      'a signature by another key',
      () => repoCar(buildRepo({ did: DID, curve: 'k256', key: Buffer.alloc(32, 4), records })),
      'invalid-signature',
    ],
    ['a commit for another DID', () => repoCar(repo), 'did-mismatch', { did: 'did:web:other.example.com' }],
    [
      'a v2 commit',
      () =>
        repoCar(
          buildRepo({ did: DID, curve: 'k256', key: KEY, records, commit: (c) => ({ ...c, version: 2 }) }),
        ),
      'malformed',
    ],
    [
      'an unknown commit field',
      () =>
        repoCar(
          buildRepo({ did: DID, curve: 'k256', key: KEY, records, commit: (c) => ({ ...c, extra: 1 }) }),
        ),
      'malformed',
    ],
    [
      'a missing MST node',
      () => repoCar(repo, [String(dagCbor.decode<{ data: { toString(): string } }>(repo.commitBytes).data)]),
      'malformed',
    ],
    [
      'a missing record block',
      () => repoCar(repo, [repo.recordCids.get(`io.atcr.manifest/${RKEY}`)!.toString()]),
      'malformed',
    ],
    [
      'a block whose bytes do not match its CID',
      () => {
        const bytes = Buffer.from(repoCar(repo));
        bytes.writeUInt8(bytes.readUInt8(bytes.length - 3) ^ 1, bytes.length - 3);
        return bytes;
      },
      'malformed',
    ],
    [
      'a repeated block',
      () => {
        const blocks = [...repo.blocks.values()].map((b) => [cidForBlock(b), b] as const);
        return writeCar(repo.commitCid, [...blocks, blocks[0]!]);
      },
      'malformed',
    ],
    ['a truncated CAR', () => repoCar(repo).subarray(0, 200), 'malformed'],
    [
      'two roots',
      () => {
        const header = dagCbor.encode({ roots: [repo.commitCid, repo.commitCid], version: 1 });
        return Buffer.concat([Buffer.from([header.length]), header]);
      },
      'malformed',
    ],
    [
      'non-canonical CBOR (map keys out of order)',
      () => {
        const bad = Buffer.from([0xa2, 0x61, 0x62, 0x01, 0x61, 0x61, 0x02]);
        return writeCar(cidForBlock(bad), [[cidForBlock(bad), bad]]);
      },
      'malformed',
    ],
    ['garbage', () => Buffer.from('not a car at all'), 'malformed'],
    ['an empty file', () => new Uint8Array(), 'malformed'],
  ];
  for (const [name, car, reason, override] of cases) {
    it(`rejects ${name} (${reason})`, () => {
      assert.equal(
        reasonOf(() => verifyRecordProof(car(), { ...expected, ...override })),
        reason,
      );
    });
  }
  it('rejects an oversize block and more blocks than allowed', () => {
    assert.equal(
      reasonOf(() => readCar(repoCar(repo), { maxBlockBytes: 64, maxBlocks: 1000 })),
      'malformed',
    );
    assert.equal(
      reasonOf(() => readCar(repoCar(repo), { maxBlockBytes: 1 << 20, maxBlocks: 3 })),
      'malformed',
    );
  });
});

describe('when identifiers and documents are malformed', () => {
  it('rejects bad DIDs before any request', () => {
    for (const did of [
      'did:plc:short',
      'did:plc:UPPERCASEUPPERCASEUPPERC',
      'did:web:example.com:path',
      'did:key:zQ3s',
      'did:web:exa_mple.com',
      'nope',
    ]) {
      assert.ok('error' in parseAtprotoDid(did), did);
    }
    assert.deepEqual(parseAtprotoDid('did:web:localhost%3A8080'), {
      method: 'web',
      did: 'did:web:localhost%3A8080',
      host: 'localhost:8080',
    });
  });
  const doc = (extra: Record<string, unknown>) => ({
    id: DID,
    alsoKnownAs: ['at://alice.example.com'],
    ...extra,
  });
  const vm = [{ id: '#atproto', type: 'Multikey', publicKeyMultibase: PUB.didKey.slice('did:key:'.length) }];
  const svc = [
    { id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: 'https://pds.example.com/' },
  ];
  it('reads key, PDS and handle claim', () => {
    assert.deepEqual(parseDidDocument(doc({ verificationMethod: vm, service: svc }), DID), {
      did: DID,
      signingKey: PUB.didKey,
      pds: 'https://pds.example.com',
      handle: 'alice.example.com',
    });
  });
  for (const [name, d] of [
    ['no key', doc({ service: svc })],
    ['no PDS', doc({ verificationMethod: vm })],
    [
      'a PDS that is not http(s)',
      doc({ verificationMethod: vm, service: [{ ...svc[0], serviceEndpoint: 'ftp://x.example.com' }] }),
    ],
    [
      'invalid multibase',
      doc({ verificationMethod: [{ ...vm[0], publicKeyMultibase: 'z0OIl' }], service: svc }),
    ],
    [
      'another DID as id',
      { ...doc({ verificationMethod: vm, service: svc }), id: 'did:web:evil.example.com' },
    ],
    ['not an object', 'string'],
  ] as const) {
    it(`rejects a DID document with ${name}`, () => {
      assert.equal(
        reasonOf(() => parseDidDocument(d, DID)),
        'malformed',
      );
    });
  }
  it('rejects unknown key types and off-curve points', () => {
    assert.equal(
      reasonOf(() => keyFromVerificationMethod('Ed25519VerificationKey2020', 'z6Mk')),
      'malformed',
    );
    assert.equal(
      reasonOf(() => keyFromVerificationMethod('EcdsaSecp256k1VerificationKey2019', `z${'1'.repeat(45)}`)),
      'malformed',
    );
  });
  it('rejects artifacts without a record URI, for another collection, or with a DID that is not the record owner', () => {
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v));
    assert.equal(
      reasonOf(() => parseSignatureArtifact(enc({ did: DID }))),
      'malformed',
    );
    assert.equal(
      reasonOf(() => parseSignatureArtifact(enc({ recordUri: `at://${DID}/app.bsky.feed.post/${RKEY}` }))),
      'malformed',
    );
    assert.equal(
      reasonOf(() =>
        parseSignatureArtifact(
          enc({ did: 'did:web:x.example.com', recordUri: `at://${DID}/io.atcr.manifest/${RKEY}` }),
        ),
      ),
      'malformed',
    );
    assert.equal(
      reasonOf(() => parseSignatureArtifact(Buffer.from('{'))),
      'malformed',
    );
  });
  it('accepts the aliases ATCR may use', () => {
    const claim = parseSignatureArtifact(
      Buffer.from(
        JSON.stringify({
          signer: DID,
          uri: `at://${DID}/io.atcr.manifest/${RKEY}`,
          pds: 'https://p.example.com',
          commit: { '/': 'bafyx' },
          manifestDigest: RECORD.digest,
        }),
      ),
    );
    assert.equal(claim.did, DID);
    assert.equal(claim.pdsEndpoint, 'https://p.example.com');
    assert.equal(claim.commitCid, 'bafyx');
    assert.equal(claim.subjectDigest, RECORD.digest);
  });
});

describe('when an endpoint names a private address', () => {
  it('refuses IP literals and local names unless private networks are allowed', () => {
    for (const u of [
      'http://127.0.0.1:3000',
      'https://[::1]/',
      'https://10.0.0.1',
      'http://localhost:80',
      'https://intranet',
    ]) {
      assert.equal(
        reasonOf(() => checkUrlHost(new URL(u), false, 'the PDS endpoint')),
        'forbidden-address',
        u,
      );
      assert.equal(
        reasonOf(() => checkUrlHost(new URL(u), true, 'the PDS endpoint')),
        'ok',
        u,
      );
    }
    assert.equal(
      reasonOf(() => checkUrlHost(new URL('https://pds.example.com'), false, 'x')),
      'ok',
    );
  });
  it('classifies resolved addresses', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '192.168.1.1',
      '169.254.169.254',
      '::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '100.64.0.1',
    ])
      assert.equal(isNonPublicAddress(a), true, a);
    for (const a of ['8.8.8.8', '2606:4700::1111']) assert.equal(isNonPublicAddress(a), false, a);
  });
});
