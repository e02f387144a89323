/**
 * The ATProto verification path for one signature artifact, after its JSON was fetched:
 * trust policy → DID document → PDS proof → commit signature → MST inclusion → record contents.
 * Returns the facts established, or throws AtprotoFailure with the first failed check.
 */
import type { Cache } from '../../cache/types.js';
import type { AtprotoTrust } from '../../trust/atproto/load.js';
import { decideSigner, type ScopedPolicy, type TrustedDid } from '../../trust/atproto/policy.js';
import { isValidDid } from '../../trust/atproto/syntax.js';
import type { SignatureClaim } from './artifact.js';
import type { ProvenAtprotoFacts } from './details.js';
import { AtprotoFailure, shown } from './failure.js';
import { type ResolveTxt, verifyHandle } from './identity/handle.js';
import type { FetchLike } from './identity/http.js';
import { checkUrlHost } from './identity/net-guard.js';
import { resolveIdentity } from './identity/resolver.js';
import { fetchRecordProof } from './pds.js';
import { parseDidKey } from './repo/keys.js';
import { verifyRecordProof } from './repo/proof.js';

export interface ClaimContext {
  readonly cache: Cache;
  readonly signal: AbortSignal;
  readonly now: Date;
  /** Normalized image name (`registry/repository`) for scopes. */
  readonly imageName: string;
  /** Repository path inside the registry (`alice/app`), for the record's `repository`. */
  readonly repositoryPath: string;
  readonly subjectDigest: string;
}

export interface NetworkDeps {
  /** Guarded fetch for did:web, handles and PDS endpoints. */
  readonly fetch: FetchLike;
  /** Fetch for the configured PLC directory. */
  readonly plcFetch: FetchLike;
  readonly resolveTxt: ResolveTxt;
}

/** Facts established by a successful verification (the report's details), with whom they matched. */
export interface VerifiedClaim extends ProvenAtprotoFacts {
  readonly signer?: TrustedDid;
  readonly policy?: ScopedPolicy;
}

/** True when the record's `repository` names this image (ATCR scopes it to the owner's DID). */
function repositoryMatches(recordRepo: string, repositoryPath: string, owners: readonly string[]): boolean {
  if (recordRepo === repositoryPath) return true;
  const slash = repositoryPath.indexOf('/');
  if (slash < 0) return false;
  const owner = repositoryPath.slice(0, slash).toLowerCase();
  return repositoryPath.slice(slash + 1) === recordRepo && owners.includes(owner);
}

export async function verifyClaim(
  claim: SignatureClaim,
  trust: AtprotoTrust,
  deps: NetworkDeps,
  ctx: ClaimContext,
): Promise<VerifiedClaim> {
  const net = trust.network;
  if (claim.subjectDigest && claim.subjectDigest !== ctx.subjectDigest) {
    throw new AtprotoFailure(
      'digest-mismatch',
      `the artifact is for ${claim.subjectDigest}, not ${ctx.subjectDigest}`,
    );
  }
  // 1. trust policy first: an untrusted DID costs no network traffic
  const decision = decideSigner(trust.policy, ctx.imageName, claim.did, ctx.now);
  if (!decision.trusted)
    throw new AtprotoFailure('untrusted-signer', decision.message, { details: { did: claim.did } });

  // 2. the DID document is the authority for key and PDS
  const identity = await resolveIdentity(
    claim.did,
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
  checkUrlHost(new URL(identity.pds), net.allowPrivateNetwork, 'the PDS endpoint');
  const key = parseDidKey(identity.signingKey);

  // 3. the proof, and the handle check alongside it
  const handleClaimed = claim.handle?.toLowerCase() ?? identity.handle;
  const handleCheck = handleClaimed
    ? verifyHandle(
        handleClaimed,
        claim.did,
        identity.handle,
        {
          fetch: deps.fetch,
          resolveTxt: deps.resolveTxt,
          allowPrivateNetwork: net.allowPrivateNetwork,
          timeoutMs: Math.min(net.didResolverTimeoutMs, 3000),
          cacheTtlMs: net.cacheTtlMs,
        },
        ctx,
      ).catch(() => false)
    : Promise.resolve(false);
  const { collection, rkey } = claim.record;
  const car = await fetchRecordProof(
    identity.pds,
    { did: claim.did, collection, rkey },
    {
      fetch: deps.fetch,
      signal: ctx.signal,
      timeoutMs: net.pdsTimeoutMs,
    },
  );
  const proof = verifyRecordProof(car, { did: claim.did, key, collection, rkey });
  const recordUri = `at://${claim.did}/${collection}/${rkey}`;
  if (!proof.recordCid || !proof.record) {
    throw new AtprotoFailure(
      'record-not-found',
      `the signed repository of ${claim.did} proves ${recordUri} absent`,
      {
        details: { commitCid: proof.commitCid.toString() },
      },
    );
  }
  // 4. the proven record must name this image
  const record = proof.record;
  if (record.digest !== ctx.subjectDigest) {
    throw new AtprotoFailure(
      'digest-mismatch',
      `${recordUri} names ${shown(record.digest)}, not the image digest ${ctx.subjectDigest}`,
    );
  }
  const handleVerified = await handleCheck;
  const owners = [claim.did.toLowerCase(), ...(handleVerified && handleClaimed ? [handleClaimed] : [])];
  if (
    typeof record.repository !== 'string' ||
    !repositoryMatches(record.repository, ctx.repositoryPath, owners)
  ) {
    throw new AtprotoFailure(
      'repository-mismatch',
      `${recordUri} is for repository ${JSON.stringify(record.repository)?.slice(0, 80)}, not ${ctx.repositoryPath}`,
    );
  }
  const commitCid = proof.commitCid.toString();
  const signedAt = typeof record.createdAt === 'string' ? record.createdAt : claim.signedAt;
  const holdDid =
    typeof record.holdDid === 'string' && isValidDid(record.holdDid) ? record.holdDid : undefined;
  return {
    did: claim.did,
    ...(decision.entry ? { signer: decision.entry } : {}),
    ...(decision.policy ? { policy: decision.policy } : {}),
    ...(handleVerified && handleClaimed ? { handle: handleClaimed } : {}),
    ...(handleClaimed ? { handleClaimed } : {}),
    handleVerified,
    signingKey: identity.signingKey,
    pds: identity.pds,
    ...(claim.pdsEndpoint && claim.pdsEndpoint.replace(/\/+$/, '') !== identity.pds
      ? { pdsHintIgnored: claim.pdsEndpoint }
      : {}),
    recordUri,
    recordCid: proof.recordCid.toString(),
    commitCid,
    commitRev: proof.commit.rev,
    ...(claim.commitCid && claim.commitCid !== commitCid ? { artifactCommitCid: claim.commitCid } : {}),
    ...(signedAt ? { signedAt } : {}),
    ...(holdDid ? { holdDid } : {}),
  };
}
