/**
 * Sigstore bundles (v0.1, v0.2, v0.3; protobuf-specs `Bundle`) verified with @sigstore/verify,
 * plus the checks the library leaves to its caller:
 *  - the media type is one of the four known versions (unknown versions are malformed);
 *  - a DSSE envelope carries exactly one signature (the library only looks at the first);
 *  - a DSSE in-toto statement names the artifact digest among its subjects;
 *  - a message signature's digest equals the artifact's digest;
 *  - no self-signed certificate is shipped in a v0.1/v0.2 chain (sigstore-go rule);
 *  - the certificate identity matched with vouch's exact / anchored matchers (not the library's
 *    substring regexp, STYLE habit 8).
 * Pure: bytes and trust material in, a result out.
 */
import { createHash, createPublicKey } from 'node:crypto';
import {
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
  type Bundle,
  bundleFromJSON,
} from '@sigstore/bundle';
import { X509Certificate } from '@sigstore/core';
import { type TrustMaterial, toSignedEntity, Verifier } from '@sigstore/verify';
import type { CosignPolicy, CosignTrustMaterial } from '../../trust/cosign/types.js';
import { CosignCheckFailure, type CosignReason, malformed } from './failure.js';
import { certificateIdentity, matchAnyIdentity } from './identity.js';
import { mapLibraryError } from './library-errors.js';
import { type InTotoStatement, parseStatement } from './statement.js';

const KNOWN_MEDIA_TYPES = new Set([
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
]);
/** Allowed clock skew for log integration times in the future. */
const FUTURE_SKEW_MS = 5 * 60 * 1000;

export interface BundleCheckInput {
  /** The signed bytes of a message signature (for an image: the manifest bytes). */
  readonly artifact?: Uint8Array;
  /** `<alg>:<hex>` the message digest or an in-toto subject must name. */
  readonly artifactDigest?: string;
  readonly policy: CosignPolicy;
  readonly trust: CosignTrustMaterial;
  /** Verify the signer chain only, without an identity constraint (interop vectors only). */
  readonly allowAnyIdentity?: boolean;
  readonly now?: Date;
}

export type BundleResult =
  | { readonly ok: true; readonly details: Record<string, unknown>; readonly statement?: InTotoStatement }
  | {
      readonly ok: false;
      readonly reason: Exclude<CosignReason, 'ok'>;
      readonly message: string;
      readonly details: Record<string, unknown>;
    };

/** Verifies one serialized bundle. Never throws for bad input. */
export function verifyBundle(bytes: Uint8Array, input: BundleCheckInput): BundleResult {
  try {
    return { ok: true, ...checkBundle(bytes, input) };
  } catch (err) {
    if (err instanceof CosignCheckFailure)
      return { ok: false, reason: err.reason, message: err.message, details: err.details };
    const mapped = mapLibraryError(err);
    if (mapped) return { ok: false, reason: mapped.reason, message: mapped.message, details: {} };
    throw err;
  }
}

function checkBundle(
  bytes: Uint8Array,
  input: BundleCheckInput,
): { details: Record<string, unknown>; statement?: InTotoStatement } {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return malformed('the bundle is not JSON');
  }
  const mediaType = (json as { mediaType?: unknown } | null)?.mediaType;
  if (typeof mediaType !== 'string' || !KNOWN_MEDIA_TYPES.has(mediaType)) {
    malformed(`unknown bundle media type ${JSON.stringify(mediaType)}`);
  }
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(json);
  } catch (err) {
    return malformed(`the bundle is invalid: ${err instanceof Error ? err.message : String(err)}`);
  }
  const details: Record<string, unknown> = { mediaType };
  const { policy, trust } = input;
  // Key-signed bundles need no trusted root (unless the policy requires a log entry).
  const sigstoreTrust: TrustMaterial = trust.sigstore ?? {
    certificateAuthorities: [],
    timestampAuthorities: [],
    tlogs: [],
    ctlogs: [],
    publicKey: () => {
      throw new CosignCheckFailure('untrusted-signer', 'no key is trusted');
    },
  };
  const material = bundle.verificationMaterial.content;
  if (material.$case === 'x509CertificateChain') {
    const certs = material.x509CertificateChain.certificates;
    if (certs.length === 0) malformed('the bundle certificate chain is empty');
    // A chain, when shipped, must be ordered leaf to root (sigstore-conformance bundle-with-root-cert).
    const parsed = certs.map((c) => X509Certificate.parse(Buffer.from(c.rawBytes)));
    for (let i = 0; i + 1 < parsed.length; i++) {
      const cert = parsed[i];
      const next = parsed[i + 1];
      if (cert && next && !cert.issuer.equals(next.subject)) {
        throw new CosignCheckFailure('untrusted-chain', 'the bundle certificate chain is out of order');
      }
    }
  }

  let statement: InTotoStatement | undefined;
  let artifact = input.artifact ? Buffer.from(input.artifact) : undefined;
  if (bundle.content.$case === 'dsseEnvelope') {
    const env = bundle.content.dsseEnvelope;
    if (env.signatures.length !== 1)
      malformed(`the DSSE envelope has ${env.signatures.length} signatures, not 1`);
    if (env.payloadType === 'application/vnd.in-toto+json') {
      statement = parseStatement(env.payload);
      details.predicateType = statement.predicateType;
    }
    const digests = wantedDigests(input);
    if (digests.length > 0) {
      if (!statement)
        throw new CosignCheckFailure(
          'digest-mismatch',
          `DSSE payload type ${env.payloadType} is not in-toto`,
        );
      const named = statement.subject.some((s) => digests.some(([alg, hex]) => s.digest[alg] === hex));
      if (!named)
        throw new CosignCheckFailure('digest-mismatch', 'no in-toto subject names the artifact digest');
    }
    artifact = undefined;
  } else {
    const md = bundle.content.messageSignature.messageDigest;
    const hex = Buffer.from(md.digest).toString('hex');
    details.messageDigest = hex;
    if (input.artifactDigest && input.artifactDigest.split(':')[1] !== hex) {
      throw new CosignCheckFailure(
        'digest-mismatch',
        `the message signature digest is not ${input.artifactDigest}`,
      );
    }
    if (!artifact) malformed('a message-signature bundle needs the signed artifact bytes');
    const alg = input.artifactDigest?.split(':')[0] ?? 'sha256';
    if (
      createHash(alg === 'sha512' ? 'sha512' : 'sha256')
        .update(artifact)
        .digest('hex') !== hex
    ) {
      throw new CosignCheckFailure(
        'digest-mismatch',
        'the message signature digest is not the artifact digest',
      );
    }
  }

  const now = input.now ?? new Date();
  for (const entry of bundle.verificationMaterial.tlogEntries) {
    const t = Number(entry.integratedTime);
    if (t * 1000 > now.getTime() + FUTURE_SKEW_MS) {
      throw new CosignCheckFailure('expired', 'the log entry integration time is in the future');
    }
  }
  const tlogThreshold = policy.requireTlog ? 1 : 0;
  // toSignedEntity decodes the certificate, key and RFC 3161 timestamps: a broken one throws a
  // plain Error ("request past end of buffer") that names no reason, so it is malformed here.
  let entity: ReturnType<typeof toSignedEntity>;
  try {
    entity = toSignedEntity(bundle, artifact);
  } catch (err) {
    return malformed(
      `the bundle's verification material does not parse: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  // RFC 3161 §2.4.2: each timestamp's message imprint must be the hash of this signature.
  for (const ts of entity.timestamps) {
    if (ts.$case !== 'timestamp-authority') continue;
    try {
      ts.timestamp.tstInfo.verify(entity.signature.signature);
    } catch {
      throw new CosignCheckFailure('tlog-invalid', 'an RFC 3161 timestamp does not cover this signature');
    }
  }
  // The signature first: a bad signature is reported as such, not as a log entry mismatch.
  if (entity.key.$case === 'certificate') {
    const leafKey = createPublicKey({ key: entity.key.certificate.publicKey, format: 'der', type: 'spki' });
    if (!entity.signature.verifySignature(leafKey)) {
      throw new CosignCheckFailure(
        'invalid-signature',
        'the bundle signature does not verify with its certificate',
      );
    }
  }
  if (entity.key.$case === 'public-key') {
    if (policy.keys.length === 0)
      throw new CosignCheckFailure('untrusted-signer', 'the bundle is key-signed but no key is trusted');
    let last: unknown;
    for (const key of policy.keys) {
      const tm: TrustMaterial = {
        ...sigstoreTrust,
        publicKey: () => ({ publicKey: key.key, validFor: () => true }),
      };
      try {
        new Verifier(tm, { tlogThreshold, ctlogThreshold: 0, timestampThreshold: tlogThreshold }).verify(
          entity,
        );
        details.key = { id: key.id, source: key.source };
        return statement ? { details, statement } : { details };
      } catch (err) {
        last = err;
      }
    }
    throw last;
  }
  const signer = new Verifier(sigstoreTrust, {
    tlogThreshold,
    ctlogThreshold: policy.requireSct ? 1 : 0,
  }).verify(entity);
  const identity = certificateIdentity(entity.key.certificate);
  details.identity = { issuer: identity.issuer, subjects: identity.subjects, ...identity.github };
  if (!input.allowAnyIdentity) {
    const match = matchAnyIdentity(identity, policy.identities);
    if (!match.ok)
      throw new CosignCheckFailure('identity-mismatch', `certificate identity: ${match.why}`, details);
  }
  void signer;
  return statement ? { details, statement } : { details };
}

function wantedDigests(input: BundleCheckInput): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (input.artifactDigest) {
    const [alg, hex] = input.artifactDigest.split(':');
    if (alg && hex) out.push([alg, hex]);
  }
  if (input.artifact) out.push(['sha256', createHash('sha256').update(input.artifact).digest('hex')]);
  return out;
}
