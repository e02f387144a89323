/**
 * The signer half of a legacy cosign signature, shared by `.sig` simple-signing layers and `.att`
 * DSSE layers: who signed (a trusted key, or a certificate chaining to a trusted CA with an
 * accepted identity), whether the Rekor SET proves it was logged, and whether the signature
 * verifies over the exact signed bytes. Checks run in cosign's order: signer, log entry (which
 * fixes the reference time for short-lived certificates), chain and identity, signature.
 */
import { createHash, createPublicKey } from 'node:crypto';
import type { X509Certificate } from '@sigstore/core';
import type { CosignPolicy, CosignTrustMaterial } from '../../trust/cosign/types.js';
import {
  parseCertificates,
  requireCodeSigning,
  verifyCertificateChain,
  verifyEmbeddedScts,
} from './certificate.js';
import { Annotation } from './constants.js';
import { CosignCheckFailure, malformed } from './failure.js';
import { certificateIdentity, matchAnyIdentity } from './identity.js';
import { type CosignPublicKey, describeKey, verifyRawSignature } from './public-key.js';
import { type VerifiedLogEntry, verifyRekorSet } from './rekor-set.js';

/** What was signed and how it is annotated. */
export interface SignedBytes {
  /** The bytes the signature covers (payload, or DSSE PAE). */
  readonly signed: Uint8Array;
  readonly signature: Buffer;
  /** The signature as the log records it (base64). */
  readonly signatureBase64: string;
  /** The payload the log entry hashes. */
  readonly loggedPayload: Uint8Array;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface SignerOptions {
  readonly now?: Date;
  /** Stop after the certificate checks (interop `scope: certificate`). */
  readonly certificateOnly?: boolean;
}

/** The verified signer: a distinct id (for thresholds) and report details. */
export interface VerifiedSigner {
  readonly signerId: string;
  readonly details: Record<string, unknown>;
}

/** Verifies who signed `input`; throws `CosignCheckFailure`. */
export function verifySigner(
  input: SignedBytes,
  policy: CosignPolicy,
  trust: CosignTrustMaterial,
  options: SignerOptions = {},
): VerifiedSigner {
  const details: Record<string, unknown> = {};
  const certPem = input.annotations[Annotation.certificate];
  const useCertificate = policy.identities.length > 0 && policy.keys.length === 0;
  let signerKey: CosignPublicKey | undefined;
  let leaf: X509Certificate | undefined;
  let signerId: string;
  if (useCertificate) {
    if (!certPem)
      throw new CosignCheckFailure(
        'untrusted-chain',
        'keyless policy but the signature carries no certificate',
      );
    leaf = parseCertificates(certPem, 'certificate annotation')[0];
    if (!leaf) return malformed('certificate annotation holds no certificate');
    // With certificates every verifying signature counts (cosign semantics): the id is per signature.
    signerId = `cert:${createHash('sha256').update(leaf.root.toDER()).update(input.signature).digest('hex')}`;
  } else {
    if (policy.keys.length === 0)
      throw new CosignCheckFailure('untrusted-signer', 'no trusted key or identity is configured');
    signerKey = policy.keys.find((k) => verifyRawSignature(k, input.signed, input.signature));
    if (!signerKey && !options.certificateOnly) {
      throw new CosignCheckFailure('untrusted-signer', 'no trusted key verifies this signature');
    }
    signerId = `key:${signerKey?.id ?? 'none'}`;
    if (signerKey)
      details.key = { id: signerKey.id, source: signerKey.source, algorithm: signerKey.algorithm };
  }

  let logEntry: VerifiedLogEntry | undefined;
  if (policy.requireTlog && !options.certificateOnly) {
    const set = input.annotations[Annotation.bundle];
    if (!set)
      throw new CosignCheckFailure(
        'tlog-missing',
        'the policy requires a Rekor entry but the signature has none',
      );
    logEntry = verifyRekorSet(set, trust.rekorKeys, {
      payload: input.loggedPayload,
      signatureBase64: input.signatureBase64,
      signer: leaf ? { certificateDer: leaf.root.toDER() } : { key: signerKey as CosignPublicKey },
    });
    details.tlog = {
      logIndex: logEntry.logIndex,
      logId: logEntry.logId,
      integratedTime: logEntry.integratedTime.toISOString(),
    };
  }
  if (!leaf) return { signerId, details };

  const at = logEntry?.integratedTime ?? options.now ?? new Date();
  const chainPem = input.annotations[Annotation.chain];
  const intermediates = [
    ...(chainPem ? parseCertificates(chainPem, 'chain annotation') : []),
    ...trust.intermediates,
  ];
  const path = verifyCertificateChain(leaf, intermediates, trust.certificateAuthorities, at);
  requireCodeSigning(leaf);
  if (policy.requireSct) {
    const issuer = path[1];
    const count = issuer ? verifyEmbeddedScts(leaf, issuer, trust.ctLogs) : 0;
    if (count === 0) throw new CosignCheckFailure('sct-invalid', 'the certificate carries no verifiable SCT');
  }
  const identity = certificateIdentity(leaf);
  details.identity = { issuer: identity.issuer, subjects: identity.subjects, ...identity.github };
  const match = matchAnyIdentity(identity, policy.identities);
  if (!match.ok)
    throw new CosignCheckFailure('identity-mismatch', `certificate identity: ${match.why}`, details);
  if (options.certificateOnly) return { signerId, details };
  const certKey = describeKey(
    createPublicKey({ key: leaf.publicKey, format: 'der', type: 'spki' }),
    'certificate',
  );
  if (!verifyRawSignature(certKey, input.signed, input.signature)) {
    throw new CosignCheckFailure(
      'invalid-signature',
      'the signature does not verify with the certificate key',
    );
  }
  return { signerId, details };
}
