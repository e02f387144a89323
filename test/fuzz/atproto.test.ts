/**
 * Fuzzing the ATProto inputs: the signature artifact, DID documents, did:plc audit logs, CAR files,
 * DAG-CBOR blocks, commits and MST nodes, record proofs, ATCR scan records, did:key / multibase
 * keys and AT-URIs. Seeds are built here with test keys (support/repo-build.ts and a genesis PLC
 * operation signed in-test). Properties: only AtprotoFailure escapes; a proof CAR with any changed
 * byte never proves the record; a PLC log with a changed byte of an operation never validates.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import * as dagCbor from '@ipld/dag-cbor';
import fc from 'fast-check';
import { base32 } from 'multiformats/bases/base32';
import {
  isValidDid,
  isValidHandle,
  parseAtprotoDid,
  parseRecordUri,
} from '../../src/trust/atproto/syntax.js';
import { formatSignatureArtifact, parseSignatureArtifact } from '../../src/verifiers/atproto/artifact.js';
import { parseDidDocument } from '../../src/verifiers/atproto/identity/did-document.js';
import { boundedGet, type FetchLike } from '../../src/verifiers/atproto/identity/http.js';
import { validatePlcAuditLog } from '../../src/verifiers/atproto/identity/plc-log.js';
import { readCar } from '../../src/verifiers/atproto/repo/car.js';
import { decodeCanonical } from '../../src/verifiers/atproto/repo/cbor.js';
import { parseCommit } from '../../src/verifiers/atproto/repo/commit.js';
import {
  didKeyFromPrivateKey,
  keyFromVerificationMethod,
  parseDidKey,
} from '../../src/verifiers/atproto/repo/keys.js';
import { parseMstNode } from '../../src/verifiers/atproto/repo/mst.js';
import { verifyRecordProof } from '../../src/verifiers/atproto/repo/proof.js';
import { parseScanRecord } from '../../src/verifiers/atproto/scan/record.js';
import { buildRepo, repoCar, signCompact } from '../verifiers/atproto/support/repo-build.js';
import {
  arbitraryBytes,
  check,
  checkAsync,
  flippedByte,
  hostileValue,
  mutatedBytes,
  mutatedJson,
  mutatedJsonBytes,
  mutatedString,
  outcome,
  outcomeAsync,
  recordFixed,
} from './harness.js';

const ATPROTO = ['AtprotoFailure'];
const KEY = Buffer.alloc(32, 7);
const DID_KEY = didKeyFromPrivateKey('k256', KEY);
const PUB = parseDidKey(DID_KEY);
const DID = 'did:web:fuzz.example.com';
const RKEY = '3lbx7kizy4k2a';
const DIGEST = `sha256:${'e'.repeat(64)}`;
const RECORD = {
  $type: 'io.atcr.manifest',
  repository: 'app',
  digest: DIGEST,
  mediaType: 'x',
  schemaVersion: 2,
  createdAt: '2026-01-01T00:00:00Z',
};
const records = {
  [`io.atcr.manifest/${RKEY}`]: RECORD,
  ...Object.fromEntries(
    Array.from({ length: 12 }, (_, i) => [`io.atcr.tag/t${i}`, { $type: 'io.atcr.tag', i }]),
  ),
};
const repo = buildRepo({ did: DID, curve: 'k256', key: KEY, records });
const car = repoCar(repo);
const expected = { did: DID, key: PUB, collection: 'io.atcr.manifest', rkey: RKEY };
const proves = (bytes: Uint8Array) => {
  if (outcome(() => verifyRecordProof(bytes, expected), ATPROTO) !== 'ok') return false;
  return verifyRecordProof(bytes, expected).recordCid !== null;
};

const artifact = formatSignatureArtifact({
  did: DID,
  handle: 'fuzz.example.com',
  pdsEndpoint: 'https://pds.example.com',
  recordUri: `at://${DID}/io.atcr.manifest/${RKEY}`,
  recordCid: repo.recordCids.get(`io.atcr.manifest/${RKEY}`)!.toString(),
  commitCid: repo.commitCid.toString(),
  commitRev: '3n2vatqtnlk2o',
  signedAt: '2026-01-01T00:00:00Z',
  subject: { digest: DIGEST, mediaType: 'application/vnd.oci.image.manifest.v1+json' },
  repository: 'app',
});

const didDocument = {
  '@context': ['https://www.w3.org/ns/did/v1'],
  id: DID,
  alsoKnownAs: ['at://fuzz.example.com'],
  verificationMethod: [
    {
      id: `${DID}#atproto`,
      type: 'Multikey',
      controller: DID,
      publicKeyMultibase: DID_KEY.slice('did:key:'.length),
    },
  ],
  service: [
    { id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: 'https://pds.example.com' },
  ],
};

/** A did:plc genesis operation signed here, and its audit log. */
const unsigned = {
  type: 'plc_operation',
  rotationKeys: [DID_KEY],
  verificationMethods: { atproto: DID_KEY },
  alsoKnownAs: ['at://fuzz.example.com'],
  services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: 'https://pds.example.com' } },
  prev: null,
};
const genesis = {
  ...unsigned,
  sig: Buffer.from(signCompact('k256', KEY, dagCbor.encode(unsigned))).toString('base64url'),
};
const PLC_DID = `did:plc:${base32.baseEncode(createHash('sha256').update(dagCbor.encode(genesis)).digest()).slice(0, 24)}`;
const plcLog = [
  { did: PLC_DID, operation: genesis, nullified: false, createdAt: '2026-01-01T00:00:00.000Z' },
];

const scanRecord = {
  $type: 'io.atcr.hold.scan',
  manifest: `at://${DID}/io.atcr.manifest/${RKEY}`,
  repository: 'app',
  userDid: DID,
  scannedAt: '2026-01-01T00:00:00Z',
  scannerVersion: 'grype 0.80',
  critical: 0,
  high: 1,
  medium: 2,
  low: 3,
  total: 6,
  sbomBlob: { $type: 'blob', ref: repo.commitCid, mimeType: 'application/spdx+json', size: 10 },
};

describe('when ATProto proofs are fuzzed', () => {
  it('the seed proves the record', () => {
    assert.equal(proves(car), true);
  });

  it('arbitrary bytes: CAR reading and proof checking throw only AtprotoFailure', () => {
    check('car: arbitrary bytes', [arbitraryBytes()], (bytes) => {
      outcome(() => readCar(bytes), ATPROTO);
      outcome(() => verifyRecordProof(bytes, expected), ATPROTO);
    });
  });

  it('a proof CAR with any changed byte never proves the record', () => {
    check(
      'car: flipped byte never proves',
      [flippedByte(car)],
      (bytes) => {
        assert.equal(proves(bytes), false);
      },
      3,
    );
  });

  it('edited proof CARs (inserts, deletes, truncation) throw only AtprotoFailure', () => {
    check(
      'car: mutated bytes',
      [mutatedBytes(car)],
      (bytes) => {
        outcome(() => verifyRecordProof(bytes, expected), ATPROTO);
      },
      2,
    );
  });

  it('DAG-CBOR blocks, commits and MST nodes: edited blocks throw only AtprotoFailure', () => {
    const blocks = [...repo.blocks.values()];
    check(
      'cbor: mutated blocks',
      [
        fc.constantFrom(...blocks).chain((b) => fc.oneof(mutatedBytes(b), fc.constant(b))),
        arbitraryBytes(128),
      ],
      (block, junk) => {
        for (const bytes of [block, junk]) {
          outcome(() => decodeCanonical(bytes, 'fuzz'), ATPROTO);
          outcome(() => parseCommit(bytes), ATPROTO);
          outcome(() => parseMstNode(bytes), ATPROTO);
        }
      },
      2,
    );
  });

  it('commit maps with edited fields throw only AtprotoFailure', () => {
    const commit = dagCbor.decode(repo.commitBytes) as Record<string, unknown>;
    check(
      'commit: mutated fields',
      [
        fc.record({
          key: fc.constantFrom('did', 'version', 'data', 'rev', 'prev', 'sig', 'extra'),
          value: hostileValue(),
        }),
      ],
      ({ key, value }) => {
        let bytes: Uint8Array;
        try {
          bytes = dagCbor.encode({ ...commit, [key]: value });
        } catch {
          return; // not encodable as DAG-CBOR: cannot reach the parser
        }
        outcome(() => parseCommit(bytes), ATPROTO);
      },
    );
  });
});

describe('when ATProto documents are fuzzed', () => {
  // Regression (found by 'commit: mutated fields' and 'plc log: mutated', seed 20261207 with 2000
  // runs): a JSON or DAG-CBOR map with a "toString" member, where a string or number belongs, made
  // String() throw a raw TypeError while the error message was being written.
  it('a map with a "toString" member where a scalar belongs is malformed, not a TypeError', () => {
    const commit = dagCbor.decode(repo.commitBytes) as Record<string, unknown>;
    const bad = dagCbor.encode({ ...commit, version: { toString: 1 } });
    assert.equal(
      outcome(() => parseCommit(bad), ATPROTO),
      'AtprotoFailure:malformed',
    );
    for (const field of ['did', 'createdAt']) {
      const log = [{ ...plcLog[0], [field]: { toString: 1 } }];
      assert.equal(
        outcome(() => validatePlcAuditLog(log, PLC_DID), ATPROTO),
        'AtprotoFailure:malformed',
      );
    }
    recordFixed('atproto: toString member regression', 3);
  });

  it('signature artifacts: arbitrary and edited ones throw only AtprotoFailure', () => {
    assert.equal(parseSignatureArtifact(artifact).did, DID);
    const doc = JSON.parse(Buffer.from(artifact).toString('utf8'));
    check(
      'artifact: arbitrary and mutated',
      [fc.oneof(arbitraryBytes(), mutatedJsonBytes(doc), mutatedBytes(artifact))],
      (bytes) => {
        outcome(() => parseSignatureArtifact(bytes), ATPROTO);
      },
      2,
    );
  });

  it('DID documents: edited ones throw only AtprotoFailure', () => {
    assert.equal(parseDidDocument(didDocument, DID).pds, 'https://pds.example.com');
    check(
      'did document: mutated',
      [fc.oneof(mutatedJson(didDocument), hostileValue())],
      (doc) => {
        outcome(() => parseDidDocument(doc, DID), ATPROTO);
      },
      2,
    );
  });

  it('PLC audit logs: the seed validates; edited logs throw only AtprotoFailure', () => {
    const state = validatePlcAuditLog(plcLog, PLC_DID);
    assert.notEqual(state, 'tombstoned');
    check(
      'plc log: mutated',
      [fc.oneof(mutatedJson(plcLog), hostileValue())],
      (log) => {
        outcome(() => validatePlcAuditLog(log, PLC_DID), ATPROTO);
      },
      2,
    );
  });

  it('a PLC operation with a changed signature or key never validates', () => {
    const sig = Buffer.from(genesis.sig, 'base64url');
    check(
      'plc log: signature flipped',
      [
        fc.oneof(
          flippedByte(sig).map((s) => ({ ...genesis, sig: Buffer.from(s).toString('base64url') })),
          mutatedString(DID_KEY).map((k) => ({ ...genesis, rotationKeys: [k] })),
        ),
      ],
      (op) => {
        if (JSON.stringify(op) === JSON.stringify(genesis)) return; // an edit that undid itself
        const log = [{ ...plcLog[0], operation: op }];
        assert.notEqual(
          outcome(() => validatePlcAuditLog(log, PLC_DID), ATPROTO),
          'ok',
        );
      },
    );
  });

  it('ATCR scan records: edited ones throw only AtprotoFailure', () => {
    assert.equal(parseScanRecord(scanRecord).counts.total, 6);
    // parseScanRecord gets a proven record, always a map (verifyRecordProof checks): only maps here
    const isMap = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
    check(
      'scan record: mutated',
      [
        mutatedJson({ ...scanRecord, sbomBlob: { ...scanRecord.sbomBlob, ref: { $link: 'x' } } }).filter(
          isMap,
        ),
      ],
      (rec) => {
        outcome(() => parseScanRecord(rec as Record<string, unknown>), ATPROTO);
        outcome(
          () => parseScanRecord({ ...(rec as Record<string, unknown>), sbomBlob: scanRecord.sbomBlob }),
          ATPROTO,
        );
      },
    );
  });
});

describe('when ATProto responses are read under a size limit', () => {
  it('a body over the limit is refused as malformed, with or without Content-Length', async () => {
    await checkAsync(
      'atproto: bounded read',
      [
        fc.integer({ min: 0, max: 32 * 1024 }),
        fc.integer({ min: 0, max: 64 * 1024 }),
        fc.integer({ min: 256, max: 8192 }),
        fc.boolean(),
      ],
      async (maxBytes, total, chunk, declare) => {
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            for (let sent = 0; sent < total; sent += chunk)
              controller.enqueue(new Uint8Array(Math.min(chunk, total - sent)));
            controller.close();
          },
        });
        const fetch: FetchLike = async () => ({
          status: 200,
          headers: { get: (n: string) => (n === 'content-length' && declare ? String(total) : null) },
          body,
        });
        const options = {
          fetch,
          signal: new AbortController().signal,
          timeoutMs: 5000,
          maxBytes,
          accept: 'application/json',
          unreachable: 'unreachable' as const,
          what: 'the PLC directory',
        };
        const result = await outcomeAsync(() => boundedGet('https://plc.example/did', options), ATPROTO);
        assert.equal(result, total > maxBytes ? 'AtprotoFailure:malformed' : 'ok');
      },
      0.5,
    );
  });
});

describe('when ATProto identifiers are fuzzed', () => {
  it('did:key, multibase keys, DIDs, handles and AT-URIs never throw anything unclassified', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 120 }),
      mutatedString(DID_KEY),
      mutatedString(`at://${DID}/io.atcr.manifest/${RKEY}`),
      mutatedString(PLC_DID),
    );
    check(
      'identifiers: arbitrary and mutated',
      [
        text,
        fc.constantFrom(
          'Multikey',
          'EcdsaSecp256k1VerificationKey2019',
          'EcdsaSecp256r1VerificationKey2019',
          'x',
        ),
      ],
      (s, type) => {
        outcome(() => parseDidKey(s), ATPROTO);
        outcome(() => keyFromVerificationMethod(type, s.replace(/^did:key:/, '')), ATPROTO);
        outcome(() => parseAtprotoDid(s), []);
        outcome(() => parseRecordUri(s), []);
        outcome(() => isValidDid(s), []);
        outcome(() => isValidHandle(s), []);
      },
      3,
    );
  });
});
