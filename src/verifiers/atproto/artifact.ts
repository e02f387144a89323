/**
 * The ATCR signature artifact: the JSON layer of a referrer with artifactType
 * `application/vnd.atproto.signature.v1+json` (docs/atproto.md defines vouch's format).
 * ATCR's exact key names are not confirmed, so the parser accepts the plausible aliases, flat or
 * nested under `atproto`, and rejects anything without a DID and a record URI. Every field is a
 * hint: the DID is matched against the trust policy, the key and PDS come from the DID document,
 * and the record and digest from the verified proof.
 */

import { parseRecordUri, type RecordUri } from '../../trust/atproto/syntax.js';
import { malformed } from './failure.js';

export const ATPROTO_SIGNATURE_ARTIFACT_TYPE = 'application/vnd.atproto.signature.v1+json';
/** The collection ATCR stores image manifests in. */
export const MANIFEST_COLLECTION = 'io.atcr.manifest';

/** A parsed signature artifact (claims, not facts). */
export interface SignatureClaim {
  readonly did: string;
  readonly record: RecordUri;
  readonly handle?: string;
  readonly pdsEndpoint?: string;
  readonly commitCid?: string;
  readonly signedAt?: string;
  readonly subjectDigest?: string;
}

const ALIASES = {
  did: ['did', 'signerDid', 'signer', 'repo', 'author'],
  recordUri: ['recordUri', 'recordURI', 'record_uri', 'uri', 'manifestUri', 'atUri'],
  handle: ['handle', 'signerHandle'],
  pdsEndpoint: ['pdsEndpoint', 'pds', 'pdsUrl', 'pds_endpoint', 'pdsURL'],
  commitCid: ['commitCid', 'commitCID', 'commit_cid', 'commit', 'cid'],
  signedAt: ['signedAt', 'signed_at', 'createdAt', 'timestamp'],
  subjectDigest: ['subjectDigest', 'manifestDigest', 'digest', 'imageDigest'],
} as const;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads a string field through its aliases from the places the claim may live. */
function pick(sources: readonly Obj[], names: readonly string[]): string | undefined {
  for (const source of sources) {
    for (const name of names) {
      const v = source[name];
      if (typeof v === 'string' && v.length > 0 && v.length <= 2048) return v;
      // a CID written as a DAG-JSON link {"/": "bafy…"}
      if (isObj(v) && typeof v['/'] === 'string') return v['/'];
    }
  }
  return undefined;
}

/** Parses the artifact's JSON layer; throws `malformed` naming what is missing. */
export function parseSignatureArtifact(bytes: Uint8Array): SignatureClaim {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw malformed('the signature artifact is not JSON', err);
  }
  if (!isObj(json)) throw malformed('the signature artifact is not a JSON object');
  const sources: Obj[] = [];
  for (const nest of ['atproto', 'signature', 'record']) {
    const inner = json[nest];
    if (isObj(inner)) sources.push(inner);
  }
  sources.push(json);
  const subject = json.subject;
  const subjectDigest =
    isObj(subject) && typeof subject.digest === 'string'
      ? subject.digest
      : pick(sources, ALIASES.subjectDigest);

  const uri = pick(sources, ALIASES.recordUri);
  if (!uri)
    throw malformed(
      'the signature artifact has no record URI (recordUri: at://<did>/io.atcr.manifest/<rkey>)',
    );
  const record = parseRecordUri(uri);
  if (!record)
    throw malformed(
      `the signature artifact's record URI "${uri.slice(0, 100)}" is not at://<did>/<collection>/<rkey>`,
    );
  if (record.collection !== MANIFEST_COLLECTION) {
    throw malformed(`the signature artifact names a ${record.collection} record, not ${MANIFEST_COLLECTION}`);
  }
  const did = pick(sources, ALIASES.did) ?? record.did;
  if (did !== record.did)
    throw malformed(`the signature artifact's DID ${did.slice(0, 80)} is not the record URI's ${record.did}`);

  const optional = {
    handle: pick(sources, ALIASES.handle)?.replace(/^at:\/\//, ''),
    pdsEndpoint: pick(sources, ALIASES.pdsEndpoint),
    commitCid: pick(sources, ALIASES.commitCid),
    signedAt: pick(sources, ALIASES.signedAt),
    subjectDigest,
  };
  const claim: Record<string, unknown> = { did, record };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) claim[k] = v;
  return claim as unknown as SignatureClaim;
}

/** The JSON vouch's signer writes (docs/atproto.md, "Signature artifact"). */
export function formatSignatureArtifact(claim: {
  did: string;
  handle: string;
  pdsEndpoint: string;
  recordUri: string;
  recordCid: string;
  commitCid: string;
  commitRev: string;
  signedAt: string;
  subject: { digest: string; mediaType: string };
  repository: string;
}): Uint8Array {
  const doc = {
    $type: 'io.atcr.signature',
    version: '1.0',
    subject: claim.subject,
    atproto: {
      did: claim.did,
      handle: claim.handle,
      pdsEndpoint: claim.pdsEndpoint,
      recordUri: claim.recordUri,
      recordCid: claim.recordCid,
      commitCid: claim.commitCid,
      commitRev: claim.commitRev,
      signedAt: claim.signedAt,
      repository: claim.repository,
    },
    signature: { algorithm: 'atproto-repo-commit', keyId: `${claim.did}#atproto` },
  };
  return new TextEncoder().encode(JSON.stringify(doc));
}
