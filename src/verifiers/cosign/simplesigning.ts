/**
 * Legacy cosign image signatures: one `application/vnd.dev.cosign.simplesigning.v1+json` layer per
 * signature in a `sha256-<hex>.sig` manifest (or an OCI referrer of that artifact type).
 * Pure: gets the exact layer bytes and annotations, the trust material and the policy; returns
 * what was verified or throws `CosignCheckFailure`.
 *
 * Format: cosign `specs/SIGNATURE_SPEC.md` (payload `critical.image.docker-manifest-digest`,
 * annotations `dev.cosignproject.cosign/signature`, `dev.sigstore.cosign/certificate`, `/chain`,
 * `/bundle`). Checks run in cosign's order: signer (key or certificate at the log time), log
 * entry, signature over the exact bytes, then the payload's claims.
 */
import { createHash, createPublicKey } from 'node:crypto';
import type { X509Certificate } from '@sigstore/core';
import {
  parseCertificates,
  requireCodeSigning,
  verifyCertificateChain,
  verifyEmbeddedScts,
} from './certificate.js';
import { Annotation, MediaTypes } from './constants.js';
import { CosignCheckFailure, decodeBase64Strict, malformed } from './failure.js';
import { certificateIdentity, matchAnyIdentity } from './identity.js';
import type { CosignPolicy, CosignTrustMaterial } from './model.js';
import { type CosignPublicKey, describeKey, verifyRawSignature } from './public-key.js';
import { type VerifiedLogEntry, verifyRekorSet } from './rekor-set.js';

/** One signature layer as received: exact bytes, media type and annotations. */
export interface SimpleSigningLayer {
  readonly mediaType: string;
  readonly payload: Uint8Array;
  readonly annotations: Readonly<Record<string, string>>;
  /** The layer digest, when known: sha256(payload) must equal it. */
  readonly digest?: string;
}

/** What one verified signature proves. */
export interface VerifiedSignature {
  /** `key:<id>` or `cert:<sha256 of leaf>`, used to count distinct signers. */
  readonly signerId: string;
  readonly details: Record<string, unknown>;
}

/** Options of one check (mechanics, not trust). */
export interface SimpleSigningOptions {
  /** Reference time when there is no verified log entry (default: now). */
  readonly now?: Date;
  /** Stop after the certificate checks (chain, time, identity): no payload or Rekor check. */
  readonly certificateOnly?: boolean;
}

/** Verifies one simple-signing layer against `subjectDigest`. */
export function verifySimpleSigning(
  layer: SimpleSigningLayer,
  subjectDigest: string,
  policy: CosignPolicy,
  trust: CosignTrustMaterial,
  options: SimpleSigningOptions = {},
): VerifiedSignature {
  if (layer.mediaType !== MediaTypes.simpleSigning) {
    malformed(`layer media type ${layer.mediaType} is not ${MediaTypes.simpleSigning}`);
  }
  if (layer.digest !== undefined) {
    const actual = `sha256:${createHash('sha256').update(layer.payload).digest('hex')}`;
    if (actual !== layer.digest) {
      throw new CosignCheckFailure(
        'digest-mismatch',
        `the payload hashes to ${actual}, not the layer digest`,
      );
    }
  }
  const signatureBase64 = layer.annotations[Annotation.signature];
  if (signatureBase64 === undefined && !options.certificateOnly)
    malformed('the layer has no signature annotation');
  const signature = options.certificateOnly
    ? Buffer.alloc(0)
    : decodeBase64Strict(signatureBase64, 'signature');
  const certPem = layer.annotations[Annotation.certificate];
  const useCertificate = policy.identities.length > 0 && policy.keys.length === 0;
  const details: Record<string, unknown> = {};

  let signerKey: CosignPublicKey | undefined;
  let signerId: string;
  let leaf: X509Certificate | undefined;
  if (useCertificate) {
    if (!certPem)
      throw new CosignCheckFailure(
        'untrusted-chain',
        'keyless policy but the signature carries no certificate',
      );
    const leafCert = parseCertificates(certPem, 'certificate annotation')[0];
    if (!leafCert) return malformed('certificate annotation holds no certificate');
    leaf = leafCert;
    // With certificates every verifying signature counts (cosign semantics), so the id is per signature.
    signerId = `cert:${createHash('sha256').update(leafCert.root.toDER()).update(signature).digest('hex')}`;
  } else {
    if (policy.keys.length === 0)
      throw new CosignCheckFailure('untrusted-signer', 'no trusted key is configured');
    signerKey = policy.keys.find((k) => verifyRawSignature(k, layer.payload, signature));
    if (!signerKey && !options.certificateOnly) {
      throw new CosignCheckFailure('untrusted-signer', 'no trusted key verifies this signature');
    }
    signerId = `key:${signerKey?.id ?? 'none'}`;
    if (signerKey)
      details.key = { id: signerKey.id, source: signerKey.source, algorithm: signerKey.algorithm };
  }

  // Rekor: the SET proves when the signature was logged; it anchors short-lived certificates.
  let logEntry: VerifiedLogEntry | undefined;
  if (policy.requireTlog && !options.certificateOnly) {
    const set = layer.annotations[Annotation.bundle];
    if (!set)
      throw new CosignCheckFailure(
        'tlog-missing',
        'the policy requires a Rekor entry but the signature has none',
      );
    logEntry = verifyRekorSet(set, trust.rekorKeys, {
      payload: layer.payload,
      signatureBase64: signatureBase64 ?? '',
      signer: leaf ? { certificateDer: leaf.root.toDER() } : { key: signerKey as CosignPublicKey },
    });
    details.tlog = {
      logIndex: logEntry.logIndex,
      logId: logEntry.logId,
      integratedTime: logEntry.integratedTime.toISOString(),
    };
  }

  if (leaf) {
    const at = logEntry?.integratedTime ?? options.now ?? new Date();
    const chainPem = layer.annotations[Annotation.chain];
    const intermediates = [
      ...(chainPem ? parseCertificates(chainPem, 'chain annotation') : []),
      ...trust.intermediates,
    ];
    const path = verifyCertificateChain(leaf, intermediates, trust.certificateAuthorities, at);
    requireCodeSigning(leaf);
    if (policy.requireSct) {
      const issuer = path[1];
      const count = issuer ? verifyEmbeddedScts(leaf, issuer, trust.ctLogs) : 0;
      if (count === 0)
        throw new CosignCheckFailure('sct-invalid', 'the certificate carries no verifiable SCT');
    }
    const identity = certificateIdentity(leaf);
    details.identity = { issuer: identity.issuer, subjects: identity.subjects, ...identity.github };
    const match = matchAnyIdentity(identity, policy.identities);
    if (!match.ok)
      throw new CosignCheckFailure('identity-mismatch', `certificate identity: ${match.why}`, details);
    if (options.certificateOnly) return { signerId, details };
    signerKey = describeKey(
      createPublicKey({ key: leaf.publicKey, format: 'der', type: 'spki' }),
      'certificate',
    );
    if (!verifyRawSignature(signerKey, layer.payload, signature)) {
      throw new CosignCheckFailure(
        'invalid-signature',
        'the signature does not verify with the certificate key',
      );
    }
  }
  if (options.certificateOnly) return { signerId, details };

  const claimed = parsePayloadDigest(layer.payload, policy.dockerReference);
  if (claimed !== subjectDigest) {
    throw new CosignCheckFailure(
      'digest-mismatch',
      `the signed payload names ${claimed}, not ${subjectDigest}`,
      details,
    );
  }
  return { signerId, details };
}

/** Parses the simple-signing payload (exact bytes) and returns its manifest digest. */
export function parsePayloadDigest(payload: Uint8Array, dockerReference?: string): string {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return malformed('the signed payload is not JSON');
  }
  const critical = (doc as { critical?: unknown } | null)?.critical as
    | {
        type?: unknown;
        image?: { 'docker-manifest-digest'?: unknown };
        identity?: { 'docker-reference'?: unknown };
      }
    | undefined;
  if (!critical || typeof critical !== 'object') malformed('the signed payload has no critical section');
  if (critical.type !== 'cosign container image signature')
    malformed('the signed payload is not a cosign image signature');
  const digest = critical.image?.['docker-manifest-digest'];
  if (typeof digest !== 'string' || !/^sha(256|384|512):[0-9a-f]+$/.test(digest)) {
    malformed('the signed payload has no valid docker-manifest-digest');
  }
  if (dockerReference !== undefined && critical.identity?.['docker-reference'] !== dockerReference) {
    throw new CosignCheckFailure(
      'digest-mismatch',
      `the signed payload names reference ${String(critical.identity?.['docker-reference'])}, not ${dockerReference}`,
    );
  }
  return digest;
}

/**
 * Verifies a set of signature layers and applies the threshold: `policy.threshold` distinct
 * signers (distinct trusted keys, or verifying certificates) must verify.
 */
export function verifySimpleSigningSet(
  layers: readonly SimpleSigningLayer[],
  subjectDigest: string,
  policy: CosignPolicy,
  trust: CosignTrustMaterial,
  options: SimpleSigningOptions = {},
): { verified: VerifiedSignature[]; failures: CosignCheckFailure[] } {
  const verified: VerifiedSignature[] = [];
  const failures: CosignCheckFailure[] = [];
  for (const layer of layers) {
    try {
      const v = verifySimpleSigning(layer, subjectDigest, policy, trust, options);
      if (!verified.some((x) => x.signerId === v.signerId)) verified.push(v);
    } catch (err) {
      if (err instanceof CosignCheckFailure) failures.push(err);
      else throw err;
    }
  }
  return { verified, failures };
}
