/**
 * ATCR scan results as external documents (engine `externalDocuments`): for each verified
 * manifest record that names a hold (`holdDid`), the hold's `io.atcr.hold.scan` record for the
 * image's digest, proven like a manifest record (the hold's DID document → its PDS → a getRecord
 * proof whose commit the hold's `#atproto` key signed → MST inclusion), checked against the
 * manifest record it claims to scan, and its SBOM and Grype blobs fetched and checked against the
 * CIDs the signed record names. The hold must be in the ATCR policy's `trustedHolds` (checked
 * before any request). No scan record yet: nothing (a required report is then missing, not failed).
 */
import type {
  ExternalDocument,
  ExternalFinding,
  Report,
  VerifierSubject,
  VerifyContext,
} from '../../../engine/types.js';
import { isVouchError, TRANSIENT_CODES } from '../../../errors.js';
import type { AtprotoTrust } from '../../../trust/atproto/load.js';
import { decideHold } from '../../../trust/atproto/policy.js';
import { SPDX_MEDIA_TYPE } from '../../sbom/model.js';
import { GRYPE_JSON_MEDIA_TYPE } from '../../vulnerability-report/grype.js';
import { AtprotoFailure, outcomeOf } from '../failure.js';
import type { FetchLike } from '../identity/http.js';
import { checkUrlHost } from '../identity/net-guard.js';
import { resolveIdentity } from '../identity/resolver.js';
import { fetchRecordProof } from '../pds.js';
import { parseDidKey } from '../repo/keys.js';
import { verifyRecordProof } from '../repo/proof.js';
import { fetchVerifiedBlob } from './blob.js';
import { type BlobRef, parseScanRecord, SCAN_COLLECTION, scanRecordKey } from './record.js';

/** Largest scan blob read (the content verifiers' default document limit). */
export const MAX_SCAN_BLOB_BYTES = 64 * 1024 * 1024;

export interface ScanDeps {
  readonly fetch: FetchLike;
  readonly plcFetch: FetchLike;
}

/** The verified manifest records of the image that name a hold (from the atproto reports). */
function holdsOf(reports: readonly Report[]): Array<{ hold: string; manifest: string; owner: string }> {
  const seen = new Map<string, { hold: string; manifest: string; owner: string }>();
  for (const r of reports) {
    if (r.outcome !== 'verified') continue;
    const { holdDid, recordUri, did } = r.details as {
      holdDid?: unknown;
      recordUri?: unknown;
      did?: unknown;
    };
    if (typeof holdDid !== 'string' || typeof recordUri !== 'string' || typeof did !== 'string') continue;
    if (!seen.has(holdDid)) seen.set(holdDid, { hold: holdDid, manifest: recordUri, owner: did });
  }
  return [...seen.values()];
}

async function scanOfHold(
  subject: VerifierSubject,
  target: { hold: string; manifest: string; owner: string },
  trust: AtprotoTrust,
  deps: ScanDeps,
  ctx: VerifyContext,
): Promise<ExternalFinding[]> {
  const rkey = scanRecordKey(subject.descriptor.digest);
  const uri = `at://${target.hold}/${SCAN_COLLECTION}/${rkey}`;
  const fail = (f: AtprotoFailure): ExternalFinding => ({
    kind: 'failure',
    outcome: outcomeOf(f.reason) === 'inconclusive' ? 'inconclusive' : 'failed',
    reason: f.reason,
    message: `ATCR scan ${uri}: ${f.message}`,
    source: uri,
    details: { holdDid: target.hold, ...f.details },
  });
  try {
    const decision = decideHold(trust.policy, target.hold, ctx.now);
    if (!decision.trusted) throw new AtprotoFailure('untrusted-hold', decision.message);
    const net = trust.network;
    const identity = await resolveIdentity(
      target.hold,
      {
        plcUrl: net.plcUrl,
        allowPrivateNetwork: net.allowPrivateNetwork,
        timeoutMs: net.didResolverTimeoutMs,
        verifyPlcLog: net.verifyPlcLog,
        cacheTtlMs: net.cacheTtlMs,
        fetch: deps.fetch,
        plcFetch: deps.plcFetch,
      },
      ctx,
    );
    checkUrlHost(new URL(identity.pds), net.allowPrivateNetwork, "the hold's PDS endpoint");
    const request = { fetch: deps.fetch, signal: ctx.signal, timeoutMs: net.pdsTimeoutMs };
    let car: Uint8Array;
    try {
      car = await fetchRecordProof(
        identity.pds,
        { did: target.hold, collection: SCAN_COLLECTION, rkey },
        request,
      );
    } catch (err) {
      if (err instanceof AtprotoFailure && err.reason === 'record-not-found') return []; // not scanned yet
      throw err;
    }
    const proof = verifyRecordProof(car, {
      did: target.hold,
      key: parseDidKey(identity.signingKey),
      collection: SCAN_COLLECTION,
      rkey,
    });
    if (!proof.record || !proof.recordCid) return [];
    const scan = parseScanRecord(proof.record);
    if (scan.manifest !== target.manifest || scan.userDid !== target.owner)
      throw new AtprotoFailure(
        'scan-mismatch',
        `the record scans ${scan.manifest.slice(0, 120)} of ${scan.userDid.slice(0, 80)}, not the verified manifest record ${target.manifest}`,
      );
    const recordCid = proof.recordCid.toString();
    const signature: Report = {
      verifier: 'atproto',
      artifact: {
        digest: recordCid,
        mediaType: 'application/vnd.ipld.dag-cbor',
        artifactType: SCAN_COLLECTION,
      },
      outcome: 'verified',
      reason: 'ok',
      message: `scan record ${uri} signed by the hold ${target.hold}${decision.entry.name ? ` (${decision.entry.name})` : ''}`,
      details: {
        did: target.hold,
        recordUri: uri,
        recordCid,
        commitCid: proof.commitCid.toString(),
        commitRev: proof.commit.rev,
        signingKey: identity.signingKey,
        pds: identity.pds,
        scannerVersion: scan.scannerVersion,
        scannedAt: scan.scannedAt,
        counts: scan.counts,
      },
      nested: [],
    };
    const blobs: Array<[BlobRef | undefined, string]> = [
      [scan.vulnReportBlob, GRYPE_JSON_MEDIA_TYPE],
      [scan.sbomBlob, SPDX_MEDIA_TYPE],
    ];
    const documents = await Promise.all(
      blobs
        .filter((b): b is [BlobRef, string] => b[0] !== undefined)
        .map(async ([ref, artifactType]): Promise<ExternalDocument> => {
          if (ref.size > MAX_SCAN_BLOB_BYTES)
            throw new AtprotoFailure(
              'malformed',
              `blob ${ref.cid} declares ${ref.size} bytes, over the limit`,
            );
          const bytes = await fetchVerifiedBlob(identity.pds, target.hold, ref.cid, {
            ...request,
            maxBytes: MAX_SCAN_BLOB_BYTES,
          });
          if (bytes.byteLength !== ref.size)
            throw new AtprotoFailure(
              'digest-mismatch',
              `blob ${ref.cid} has ${bytes.byteLength} bytes, the record says ${ref.size}`,
            );
          return {
            kind: 'document',
            descriptor: {
              digest: `sha256:${Buffer.from(ref.cid.multihash.digest).toString('hex')}`,
              mediaType: ref.mimeType,
              artifactType,
              size: bytes.byteLength,
            },
            bytes,
            created: scan.scannedAt,
            source: `${uri}#${artifactType === SPDX_MEDIA_TYPE ? 'sbomBlob' : 'vulnReportBlob'}`,
            signature,
          };
        }),
    );
    return documents;
  } catch (err) {
    if (err instanceof AtprotoFailure) return [fail(err)];
    if (isVouchError(err) && (TRANSIENT_CODES.has(err.code) || err.code === 'REGISTRY_UNREACHABLE'))
      return [fail(new AtprotoFailure('unreachable', err.message))];
    if (ctx.signal.aborted)
      return [fail(new AtprotoFailure('timeout', 'the deadline passed while reading the scan'))];
    throw err;
  }
}

/** Every trusted hold's scan of `subject`, for the image's verified manifest records. */
export async function holdScanDocuments(
  subject: VerifierSubject,
  reports: readonly Report[],
  trust: AtprotoTrust,
  deps: ScanDeps,
  ctx: VerifyContext,
): Promise<ExternalFinding[]> {
  if (trust.policy.trustedHolds.length === 0) return [];
  const targets = holdsOf(reports);
  return (await Promise.all(targets.map((t) => scanOfHold(subject, t, trust, deps, ctx)))).flat();
}
