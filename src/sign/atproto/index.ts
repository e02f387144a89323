/**
 * The ATCR signer (docs/atproto.md, "Signing"): records the image as an `io.atcr.manifest`
 * record in the signing account's AT Protocol repository (the PDS signs the commit with the
 * account's `#atproto` key), fetches the record's proof, and attaches a signature artifact
 * (`application/vnd.atproto.signature.v1+json`) to the image as an OCI referrer.
 */
import { VouchError } from '../../errors.js';
import { attachArtifact } from '../../referrers/attach.js';
import type { Descriptor, Repository } from '../../registry/types.js';
import { isValidDid, parseRecordUri } from '../../trust/atproto/syntax.js';
import {
  ATPROTO_SIGNATURE_ARTIFACT_TYPE,
  formatSignatureArtifact,
  MANIFEST_COLLECTION,
} from '../../verifiers/atproto/artifact.js';
import { AtprotoFailure } from '../../verifiers/atproto/failure.js';
import { defaultFetch, type FetchLike } from '../../verifiers/atproto/identity/http.js';
import { checkUrlHost } from '../../verifiers/atproto/identity/net-guard.js';
import { readCar } from '../../verifiers/atproto/repo/car.js';
import { parseCommit } from '../../verifiers/atproto/repo/commit.js';
import { proveKey } from '../../verifiers/atproto/repo/mst.js';
import { xrpc } from './xrpc.js';

export interface SignAtprotoOptions {
  readonly repository: Repository;
  readonly subject: Descriptor;
  /** The record's `repository`: the image's repository path (ATCR: without the owner segment). */
  readonly imageRepository: string;
  readonly pdsUrl: string;
  /** Handle or DID of the signing account. */
  readonly identifier: string;
  readonly appPassword: string;
  readonly allowPrivateNetwork?: boolean;
  /** The ATCR hold storing the image's blobs and scans (the record's `holdDid`). */
  readonly holdDid?: string;
  readonly signal?: AbortSignal;
  /** Replaces the network (tests). */
  readonly fetch?: FetchLike;
}

const TIMEOUT_MS = 30_000;

function pdsOrigin(pdsUrl: string, allowPrivateNetwork: boolean): string {
  let url: URL;
  try {
    url = new URL(pdsUrl);
  } catch {
    throw new VouchError('USAGE', `--pds "${pdsUrl}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new VouchError('USAGE', '--pds must be an http(s) URL');
  try {
    checkUrlHost(url, allowPrivateNetwork, 'the PDS');
  } catch (err) {
    if (err instanceof AtprotoFailure)
      throw new VouchError('USAGE', `${err.message} (use --allow-private-network)`);
    throw err;
  }
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/** Signs `subject` with the account's repository; returns the attached artifact's descriptor. */
export async function signAtproto(options: SignAtprotoOptions): Promise<Descriptor> {
  if (options.holdDid !== undefined && !isValidDid(options.holdDid))
    throw new VouchError('USAGE', `--hold-did "${options.holdDid.slice(0, 80)}" is not a DID`);
  const allowPrivate = options.allowPrivateNetwork ?? false;
  const pds = pdsOrigin(options.pdsUrl, allowPrivate);
  const net = {
    fetch: options.fetch ?? defaultFetch(allowPrivate),
    signal: options.signal ?? AbortSignal.timeout(120_000),
    timeoutMs: TIMEOUT_MS,
  };
  const session = (
    await xrpc(pds, 'com.atproto.server.createSession', {
      ...net,
      body: { identifier: options.identifier, password: options.appPassword },
    })
  ).json();
  const did = session.did;
  const token = session.accessJwt;
  if (typeof did !== 'string' || typeof token !== 'string') {
    throw new VouchError('SIGNING_FAILED', 'createSession did not return a DID and an access token');
  }
  const handle = typeof session.handle === 'string' ? session.handle : '';
  const createdAt = new Date().toISOString();
  const written = (
    await xrpc(pds, 'com.atproto.repo.createRecord', {
      ...net,
      token,
      body: {
        repo: did,
        collection: MANIFEST_COLLECTION,
        validate: false,
        record: {
          $type: MANIFEST_COLLECTION,
          repository: options.imageRepository,
          digest: options.subject.digest,
          mediaType: options.subject.mediaType,
          schemaVersion: 2,
          createdAt,
          ...(options.holdDid ? { holdDid: options.holdDid } : {}),
        },
      },
    })
  ).json();
  const uri = typeof written.uri === 'string' ? parseRecordUri(written.uri) : undefined;
  const commit = written.commit as { cid?: unknown; rev?: unknown } | undefined;
  if (!uri || typeof written.cid !== 'string' || typeof commit?.cid !== 'string') {
    throw new VouchError('SIGNING_FAILED', 'createRecord did not return a record URI, CID and commit');
  }
  // the proof: the record must be in the repository's signed head under the CID just written
  const proof = await xrpc(pds, 'com.atproto.sync.getRecord', {
    ...net,
    query: { did, collection: uri.collection, rkey: uri.rkey },
  });
  try {
    const car = readCar(proof.bytes);
    const head = parseCommit(car.blocks.get(car.root.toString()) ?? new Uint8Array());
    const proven = proveKey(car.blocks, head.data, `${uri.collection}/${uri.rkey}`);
    if (head.did !== did || proven?.toString() !== written.cid) {
      throw new VouchError(
        'SIGNING_FAILED',
        `the PDS proof does not hold ${written.uri} with CID ${written.cid}`,
      );
    }
  } catch (err) {
    if (err instanceof AtprotoFailure)
      throw new VouchError('SIGNING_FAILED', `the PDS proof is invalid: ${err.message}`);
    throw err;
  }
  const artifact = formatSignatureArtifact({
    did,
    handle,
    pdsEndpoint: pds,
    recordUri: String(written.uri),
    recordCid: written.cid,
    commitCid: commit.cid,
    commitRev: typeof commit.rev === 'string' ? commit.rev : '',
    signedAt: createdAt,
    subject: { digest: options.subject.digest, mediaType: options.subject.mediaType },
    repository: options.imageRepository,
  });
  return attachArtifact(options.repository, {
    subject: options.subject,
    artifactType: ATPROTO_SIGNATURE_ARTIFACT_TYPE,
    layers: [{ bytes: artifact, mediaType: 'application/json' }],
    annotations: { 'org.opencontainers.image.created': createdAt },
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
